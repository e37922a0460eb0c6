/*  bench_media.c - the image pipeline (ru_image_process) on a phone-sized
 *  photo, next to libvips's own thumbnail of the same photo measured in
 *  the same run, and the peak memory of the worst inputs the default
 *  limits allow.
 *
 *  The photo is made in memory with libvips: 4000 x 3000, colour
 *  gradients under Gaussian noise (so that it does not compress away),
 *  JPEG quality 92: about 3 MB, like a 12-megapixel phone photo. Rows, each
 *  with 1 and with 2 threads taking images from one counter:
 *    raw vips_thumbnail_buffer  to display_px, written as JPEG Q85: the
 *                               least any pipeline must do (the raw limit)
 *    ru_image_process           every gate, the display image, the
 *                               thumbnail and the blurhash
 *  Each prints images/s, the p50 and p99 of one image's time in ms, the
 *  ratio to the raw row with as many threads, and the process's peak RSS
 *  (VmHWM) so far.
 *
 *  --worst measures instead what one image can cost: for the photo above
 *  and each worst input the default limits let through (a max_side-wide
 *  JPEG, with and without EXIF orientation; a max_pixels PNG, plain,
 *  turned and with alpha; a max_pixels GIF), all of noise that does not
 *  compress away, one process makes the file, and a fresh one (exec'd, so that nothing
 *  of the making stays in its memory) starts libvips, reads the file and
 *  runs ru_image_process once: its VmHWM before reading the file (the
 *  baseline) and at the end (the peak), and the time. ru_image.h quotes
 *  these figures to size the upload workers.
 *
 *  --photo FILE runs the rows on that photo instead; --write-photo FILE
 *  writes the photo made here, for bench_upload.py, which measures the
 *  whole upload through a node next to these rows.
 *
 *  --quick (the CTest smoke run) processes 2 images per row and checks
 *  every result; the program exits 1 if any fails. It asserts nothing
 *  about speed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

#include "ru_image.h"
#include "testdir.h"

#define S_IMAGES 40 /* per row, by default */

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/*  A field of /proc/self/status in MB ("VmHWM:", "VmRSS:"). */
static double
s_status_mb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = strtod(line + strlen(field), NULL);
    if (f)
        fclose(f);
    return kb / 1024;
}

/*  ---------------------------------------------------------------------
 *  Inputs
 */

/*  A w x h photo-like sRGB image: gradients (x, y and their sum) under
 *  noise of sigma, with bands 3 or 4 (the fourth a varying alpha). */
static VipsImage *
s_photo(int w, int h, double sigma, int bands)
{
    VipsImage *xy, *x, *y, *sum, *noise, *b[4], *joined, *shaded, *u8, *out;
    if (vips_xyz(&xy, w, h, NULL) || vips_extract_band(xy, &x, 0, NULL) ||
        vips_extract_band(xy, &y, 1, NULL) || vips_add(x, y, &sum, NULL))
        return NULL;
    double sx = 255.0 / w, sy = 255.0 / h, ss = 255.0 / (w + h), zero = 0;
    if (vips_linear(x, &b[0], &sx, &zero, 1, NULL) || vips_linear(y, &b[1], &sy, &zero, 1, NULL) ||
        vips_linear(sum, &b[2], &ss, &zero, 1, NULL))
        return NULL;
    b[3] = b[1];
    if (vips_bandjoin(b, &joined, bands, NULL) ||
        vips_gaussnoise(&noise, w, h, "mean", 0.0, "sigma", sigma, NULL) ||
        vips_add(joined, noise, &shaded, NULL) || vips_cast_uchar(shaded, &u8, NULL) ||
        vips_copy(u8, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
        return NULL;
    VipsImage *all[] = {xy, x, y, sum, b[0], b[1], b[2], joined, noise, shaded, u8};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g_object_unref(all[i]);
    return out;
}

/*  ---------------------------------------------------------------------
 *  Throughput rows
 */

typedef struct {
    const void *photo;
    size_t len;
    int images;
    bool raw; /* vips_thumbnail_buffer + jpegsave, not ru_image_process */
    atomic_int next;
    atomic_int failed;
    double *ms; /* each image's time */
} s_run_t;

static int
s_one_raw(const void *photo, size_t len)
{
    VipsImage *t;
    void *buf;
    size_t n;
    if (vips_thumbnail_buffer((void *) photo, len, &t, RU_IMAGE_DISPLAY_PX, "height",
                              RU_IMAGE_DISPLAY_PX, "size", VIPS_SIZE_DOWN, NULL))
        return -1;
    int rc = vips_jpegsave_buffer(t, &buf, &n, "Q", RU_IMAGE_JPEG_QUALITY, "strip", TRUE, NULL);
    g_object_unref(t);
    if (rc == 0)
        g_free(buf);
    return rc;
}

static int
s_one(const void *photo, size_t len)
{
    ru_image_opts_t o;
    ru_image_opts_default(&o);
    ru_image_t out;
    ru_err err = ru_image_process(photo, len, &o, &out);
    int ok = err == RU_OK && out.display.width == RU_IMAGE_DISPLAY_PX &&
             out.thumb.width == RU_IMAGE_THUMB_PX && out.blurhash[0];
    ru_image_fini(&out);
    return ok ? 0 : -1;
}

static void *
s_worker(void *arg)
{
    s_run_t *run = arg;
    int i;
    while ((i = atomic_fetch_add(&run->next, 1)) < run->images) {
        double t0 = s_now();
        int rc = run->raw ? s_one_raw(run->photo, run->len) : s_one(run->photo, run->len);
        run->ms[i] = (s_now() - t0) * 1e3;
        if (rc)
            atomic_fetch_add(&run->failed, 1);
    }
    ru_image_thread_end();
    return NULL;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/*  Runs one row with threads threads; its rate into *rate. */
static int
s_row(const char *name, s_run_t *run, int threads, double raw_rate, double *rate)
{
    pthread_t t[2];
    atomic_store(&run->next, 0);
    atomic_store(&run->failed, 0);
    double t0 = s_now();
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, s_worker, run) != 0)
            return -1;
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double wall = s_now() - t0;
    if (atomic_load(&run->failed)) {
        fprintf(stderr, "bench_media: %s failed on %d images\n", name, atomic_load(&run->failed));
        return -1;
    }
    qsort(run->ms, (size_t) run->images, sizeof run->ms[0], s_cmp_double);
    *rate = run->images / wall;
    printf("%-28s %7d %9.2f %8.1f %8.1f %9.2f x %8.1f\n", name, threads, *rate,
           run->ms[run->images / 2], run->ms[(run->images * 99) / 100],
           raw_rate > 0 ? *rate / raw_rate : 1.0, s_status_mb("VmHWM:"));
    return 0;
}

/*  The photo: made here (4000 x 3000 JPEG Q92), or read from path when
 *  given (g_malloc'd either way). */
static void *
s_photo_bytes(const char *path, size_t *len)
{
    void *photo = NULL;
    if (path) {
        gsize n = 0;
        gchar *bytes = NULL;
        if (!g_file_get_contents(path, &bytes, &n, NULL))
            return NULL;
        *len = n;
        return bytes;
    }
    VipsImage *img = s_photo(4000, 3000, 5, 3);
    if (!img || vips_jpegsave_buffer(img, &photo, len, "Q", 92, NULL))
        photo = NULL;
    if (img)
        g_object_unref(img);
    return photo;
}

static int
s_throughput(int images, const char *path)
{
    if (ru_image_init(false, RU_IMAGE_CONCURRENCY) != RU_OK)
        return -1;
    double base = s_status_mb("VmHWM:");
    size_t len = 0;
    void *photo = s_photo_bytes(path, &len);
    if (!photo)
        return -1;
    printf("photo: %s, %.2f MB; display %d px, thumbnail %d px; libvips "
           "concurrency %d; baseline VmHWM %.1f MB (libvips started)\n",
           path ? path : "4000 x 3000 JPEG Q92", len / 1e6, RU_IMAGE_DISPLAY_PX, RU_IMAGE_THUMB_PX,
           RU_IMAGE_CONCURRENCY, base);
    printf("%-28s %7s %9s %8s %8s %11s %8s\n", "operation", "threads", "images/s", "p50 ms",
           "p99 ms", "ratio", "VmHWM MB");
    s_run_t run = {.photo = photo, .len = len, .images = images};
    run.ms = calloc((size_t) images, sizeof *run.ms);
    double raw[3] = {0}, rate;
    int rc = 0;
    for (int threads = 1; threads <= 2 && !rc; threads++) {
        run.raw = true;
        rc = s_row("raw vips_thumbnail_buffer", &run, threads, 0, &raw[threads]);
        run.raw = false;
        if (!rc)
            rc = s_row("ru_image_process", &run, threads, raw[threads], &rate);
    }
    free(run.ms);
    g_free(photo);
    return rc;
}

/*  --write-photo: the photo of the throughput rows, as a file, for
 *  benchmarks of the whole upload (bench_upload.py). */
static int
s_write_photo(const char *path)
{
    if (VIPS_INIT("bench_media"))
        return -1;
    size_t len = 0;
    void *photo = s_photo_bytes(NULL, &len);
    int rc = photo && g_file_set_contents(path, photo, (gssize) len, NULL) ? 0 : -1;
    g_free(photo);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  --worst: the memory of one image
 */

typedef enum {
    S_PHOTO,
    S_JPEG_WIDE,
    S_JPEG_WIDE_TURNED,
    S_PNG,
    S_PNG_TURNED,
    S_PNG_ALPHA,
    S_GIF
} s_kind;

static const struct {
    const char *name;
    int w, h;
} s_worst[] = {
    [S_PHOTO] = {"JPEG photo (as above)", 4000, 3000},
    [S_PNG] = {"PNG RGB, max_pixels", 7071, 7071},
    [S_PNG_ALPHA] = {"PNG RGBA, max_pixels", 7071, 7071},
    [S_PNG_TURNED] = {"PNG RGB, max_pixels, EXIF 6", 10000, 5000},
    [S_JPEG_WIDE] = {"JPEG max_side wide", 16384, 3051},
    [S_JPEG_WIDE_TURNED] = {"JPEG max_side wide, EXIF 6", 16384, 3051},
    [S_GIF] = {"GIF, max_pixels", 7071, 7071},
};
#define S_NWORST (int) (sizeof s_worst / sizeof s_worst[0])

/*  Gives img an EXIF block with orientation 6. The PNG saver writes only
 *  an EXIF block (not the orientation field), so the block is taken from a
 *  small JPEG saved with that orientation. */
static int
s_turn(VipsImage *img)
{
    VipsImage *tiny, *tagged, *back;
    void *jpeg;
    size_t len;
    const void *exif;
    size_t exif_len;
    if (vips_black(&tiny, 8, 8, NULL) || vips_copy(tiny, &tagged, NULL))
        return -1;
    vips_image_set_int(tagged, VIPS_META_ORIENTATION, 6);
    if (vips_jpegsave_buffer(tagged, &jpeg, &len, NULL) ||
        !(back = vips_image_new_from_buffer(jpeg, len, "", NULL)) ||
        vips_image_get_blob(back, VIPS_META_EXIF_NAME, &exif, &exif_len))
        return -1;
    vips_image_set_blob_copy(img, VIPS_META_EXIF_NAME, exif, exif_len);
    vips_image_set_int(img, VIPS_META_ORIENTATION, 6);
    g_object_unref(tiny), g_object_unref(tagged), g_object_unref(back);
    g_free(jpeg);
    return 0;
}

/*  Makes the worst input of kind into path. */
static int
s_make_worst(s_kind kind, const char *path)
{
    if (VIPS_INIT("bench_media"))
        return -1;
    VipsImage *img = s_photo(s_worst[kind].w, s_worst[kind].h, kind == S_PHOTO ? 5 : 20,
                             kind == S_PNG_ALPHA ? 4 : 3);
    if (!img)
        return -1;
    if ((kind == S_PNG_TURNED || kind == S_JPEG_WIDE_TURNED) && s_turn(img))
        return -1;
    int rc;
    if (kind == S_GIF)
        rc = vips_gifsave(img, path, "effort", 1, NULL);
    else if (kind == S_PHOTO || kind == S_JPEG_WIDE || kind == S_JPEG_WIDE_TURNED)
        rc = vips_jpegsave(img, path, "Q", 92, NULL);
    else
        rc = vips_pngsave(img, path, "compression", 1, NULL);
    g_object_unref(img);
    return rc;
}

/*  In a fresh process: starts libvips, reads path, processes it once. */
static int
s_measure_worst(s_kind kind, const char *path)
{
    if (ru_image_init(false, RU_IMAGE_CONCURRENCY) != RU_OK)
        return -1;
    double base = s_status_mb("VmHWM:");
    gchar *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return -1;
    ru_image_opts_t o;
    ru_image_opts_default(&o);
    ru_image_t out;
    double t0 = s_now();
    ru_err err = ru_image_process(data, len, &o, &out);
    double ms = (s_now() - t0) * 1e3;
    char made[64];
    snprintf(made, sizeof made, "%s %dx%d", err ? ru_err_name(err) : out.display.mime + 6,
             out.display.width, out.display.height);
    printf("%-28s %5d x %-5d %6.1f %-15s %8.1f %9.1f %7.0f\n", s_worst[kind].name, s_worst[kind].w,
           s_worst[kind].h, len / 1e6, made, base, s_status_mb("VmHWM:"), ms);
    ru_image_fini(&out);
    g_free(data);
    return err ? -1 : 0;
}

/*  Runs argv0 with args in a child and waits: 0 when it exits 0. */
static int
s_child(const char *argv0, const char *mode, int kind, const char *path)
{
    char k[16];
    snprintf(k, sizeof k, "%d", kind);
    pid_t pid = fork();
    if (pid == 0) {
        execl(argv0, argv0, mode, k, path, (char *) NULL);
        _exit(127);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                   WEXITSTATUS(status) == 0
               ? 0
               : -1;
}

static int
s_worst_all(const char *argv0)
{
    char dir[256], path[512];
    if (testdir_make(dir, sizeof dir) != 0)
        return -1;
    printf("one image per fresh process, default options, libvips concurrency %d\n",
           RU_IMAGE_CONCURRENCY);
    printf("%-28s %13s %6s %-15s %8s %9s %7s\n", "input", "size", "MB", "display", "base MB",
           "VmHWM MB", "ms");
    fflush(stdout);
    int rc = 0;
    for (int k = 0; k < S_NWORST && !rc; k++) {
        snprintf(path, sizeof path, "%s/worst", dir);
        rc = s_child(argv0, "--make", k, path) || s_child(argv0, "--measure", k, path);
        fflush(stdout);
        unlink(path);
    }
    testdir_remove(dir);
    return rc;
}

int
main(int argc, char **argv)
{
    int images = S_IMAGES;
    int kind = argc == 4 ? atoi(argv[2]) : -1;
    if (argc == 4 && kind >= 0 && kind < S_NWORST && strcmp(argv[1], "--make") == 0)
        return s_make_worst((s_kind) kind, argv[3]) ? 1 : 0;
    if (argc == 4 && kind >= 0 && kind < S_NWORST && strcmp(argv[1], "--measure") == 0)
        return s_measure_worst((s_kind) kind, argv[3]) ? 1 : 0;
    if (argc == 2 && strcmp(argv[1], "--worst") == 0)
        return s_worst_all("/proc/self/exe") ? 1 : 0;
    if (argc == 3 && strcmp(argv[1], "--write-photo") == 0)
        return s_write_photo(argv[2]) ? 1 : 0;
    const char *path = NULL;
    int i = 1;
    if (argc >= 3 && strcmp(argv[1], "--photo") == 0) {
        path = argv[2];
        i = 3;
    }
    if (argc == i + 1 && strcmp(argv[i], "--quick") == 0)
        images = 2;
    else if (argc == i + 2 && strcmp(argv[i], "--images") == 0)
        images = atoi(argv[i + 1]);
    else if (argc != i) {
        fprintf(stderr,
                "usage: %s [--photo FILE] [--images N | --quick] | --worst | --write-photo FILE\n",
                argv[0]);
        return 2;
    }
    if (images < 1)
        return 2;
    return s_throughput(images, path) ? 1 : 0;
}
