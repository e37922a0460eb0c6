/*  ru_image.c - the image pipeline of uploads (see ru_image.h for the
 *  gates and what comes out).
 *
 *  The decoding is libvips's vips_thumbnail_buffer, which reads the upload
 *  straight into the display size: JPEG and WebP shrink while decoding
 *  (libjpeg's DCT scaling), and the rest streams through a resize, so a
 *  large photo never lies whole in memory. It also turns the image upright
 *  by its EXIF orientation, after shrinking, and with export_profile
 *  "srgb" converts an image with an embedded ICC profile (a P3 phone
 *  photo, a CMYK scan) into sRGB; one without a profile but in another
 *  space (grey, 16-bit) is converted by vips_colourspace here.
 *
 *  That pipeline is sequential: its pixels may be read once, top to
 *  bottom. So the display image is copied into memory (at most 1920 x 1920
 *  x 4 bytes by default) before anything else reads it: the alpha check,
 *  the encoder and the thumbnail, made from the copy, then the blurhash
 *  from the thumbnail's copy. The copy is also where a decoding error
 *  surfaces, since nothing is decoded before pixels are asked for.
 *
 *  Metadata is cut twice: the ICC profile and orientation are removed
 *  from the display image before the thumbnail is made from it (so the
 *  thumbnail is neither converted nor turned again), and every encoder
 *  runs with strip, which writes no EXIF, XMP, IPTC or ICC at all.
 *
 *  libvips's error text is one buffer for the whole process: what is
 *  logged of it may hold another thread's message too. The codes returned
 *  do not depend on it.
 */
#include <stdint.h>
#include <string.h>
#include <vips/vips.h>

#include "ru_image.h"
#include "ru_log.h"

/*  The accepted types: the MIME type libmagic gives, the buffer loader
 *  libvips must pick for it, and whether it is HEIC. */
static const struct {
    const char *mime;
    const char *loader;
    bool heic;
} s_types[] = {
    {"image/jpeg", "VipsForeignLoadJpegBuffer", false},
    {"image/png", "VipsForeignLoadPngBuffer", false},
    {"image/webp", "VipsForeignLoadWebpBuffer", false},
    {"image/gif", "VipsForeignLoadNsgifBuffer", false},
    {"image/heic", "VipsForeignLoadHeifBuffer", true},
    {"image/heif", "VipsForeignLoadHeifBuffer", true},
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])

static bool s_started;
static bool s_heic; /* HEIF's loader unblocked by ru_image_init */

/*  libvips's messages ("VIPS-WARNING **: ...") as lines of the node's log.
 *  Its warnings are about the file being decoded ("error in tile 0 x 112"),
 *  which anyone may send: debug lines, since the refusal that follows is
 *  logged once at info. Its criticals are misuse of libvips: errors. */
static void
s_vips_log(const char *domain, GLogLevelFlags level, const char *message, void *user)
{
    (void) domain, (void) user;
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        ru_log_err("image", "libvips: %s", message);
    else
        ru_log_debug("image", "libvips: %s", message);
}

/*  Logs what libvips said about the failure of what, and forgets it. */
static void
s_vips_failed(const char *what)
{
    char *why = vips_error_buffer_copy();
    if (why)
        g_strstrip(why);
    ru_log_info("image", "%s: %s", what, why && *why ? why : "no reason given");
    g_free(why);
}

ru_err
ru_image_init(bool heic, int concurrency)
{
    if (s_started || concurrency < 1)
        return RU_E_INVALID;
    if (VIPS_INIT("ruched") != 0) {
        s_vips_failed("libvips cannot start");
        return RU_E_IO;
    }
    g_log_set_handler("VIPS", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      s_vips_log, NULL);
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (size_t i = 0; i < S_NTYPES; i++)
        if (!s_types[i].heic || heic)
            vips_operation_block_set(s_types[i].loader, FALSE);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(concurrency);
    s_heic = heic;
    s_started = true;
    return RU_OK;
}

void
ru_image_opts_default(ru_image_opts_t *opts)
{
    opts->max_pixels = RU_IMAGE_MAX_PIXELS;
    opts->max_side = RU_IMAGE_MAX_SIDE;
    opts->display_px = RU_IMAGE_DISPLAY_PX;
    opts->thumb_px = RU_IMAGE_THUMB_PX;
    opts->heic = RU_IMAGE_HEIC;
}

static bool
s_opts_valid(const ru_image_opts_t *o)
{
    return o->max_pixels >= 1 && o->max_side >= 1 && o->thumb_px >= 1 &&
           o->thumb_px <= o->display_px && o->display_px <= RU_IMAGE_PX_MAX;
}

/*  Gates 1 and 2: the sniffed type is accepted and libvips's loader is
 *  the one for it. Writes the type into mime. */
static ru_err
s_check_type(const void *data, size_t len, bool heic, char mime[RU_SNIFF_MIME_MAX])
{
    ru_err err = ru_sniff_type(data, len, mime);
    if (err)
        return err;
    if (!ru_sniff_is_image(mime, heic))
        return RU_E_MEDIA_TYPE;
    const char *loader = vips_foreign_find_load_buffer(data, len);
    if (!loader) {
        vips_error_clear();
        return RU_E_MEDIA_TYPE;
    }
    for (size_t i = 0; i < S_NTYPES; i++)
        if (strcmp(mime, s_types[i].mime) == 0 && strcmp(loader, s_types[i].loader) == 0)
            return RU_OK;
    ru_log_info("image", "refused: %s content that libvips reads with %s", mime, loader);
    return RU_E_MEDIA_TYPE;
}

/*  Gate 3: the header's dimensions, read without decoding a pixel. Says
 *  in *icc whether the image embeds a colour profile. */
static ru_err
s_check_header(const void *data, size_t len, const ru_image_opts_t *opts, ru_image_t *out,
               bool *icc)
{
    VipsImage *head = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                                 "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (!head) {
        s_vips_failed("unreadable image header");
        return RU_E_MEDIA_CORRUPT;
    }
    int w = vips_image_get_width(head), h = vips_image_get_height(head);
    int pages = vips_image_get_n_pages(head);
    bool turned = vips_image_get_orientation_swap(head); /* EXIF orientation 5 to 8 */
    *icc = vips_image_get_typeof(head, VIPS_META_ICC_NAME) != 0;
    g_object_unref(head);
    if (w > opts->max_side || h > opts->max_side ||
        (int64_t) w * h * (pages > 1 ? pages : 1) > opts->max_pixels) {
        ru_log_info("image", "refused: %d x %d, %d page(s), over the limits", w, h, pages);
        return RU_E_MEDIA_DIMENSIONS;
    }
    out->frames = pages > 1 ? pages : 1;
    out->source_width = turned ? h : w;
    out->source_height = turned ? w : h;
    return RU_OK;
}

/*  After an operation on *img that returned rc and wrote *next: replaces
 *  *img by *next, or keeps it and fails. next is read here, after the
 *  operation has run (an argument's value could be read before it). */
static bool
s_step(VipsImage **img, VipsImage **next, int rc)
{
    if (rc != 0)
        return false;
    g_object_unref(*img);
    *img = *next;
    return true;
}

/*  The upload decoded into the display size, upright, 8-bit sRGB, with no
 *  ICC profile or orientation left on it, copied into memory. */
static ru_err
s_display(const void *data, size_t len, int px, bool icc, VipsImage **out)
{
    VipsImage *img, *next = NULL;
    /* fail_on goes to the loader in the option string: libvips 8.14's own
     * fail_on option of vips_thumbnail_buffer does not reach it, and a
     * truncated JPEG came out completed in grey. export_profile only for
     * an image with a profile: without one, libvips would run an sRGB to
     * sRGB transform over every pixel (+45% time on a photo) */
    if (vips_thumbnail_buffer((void *) data, len, &img, px, "height", px, "size", VIPS_SIZE_DOWN,
                              "option_string", "fail_on=error", "export_profile",
                              icc ? "srgb" : NULL, NULL)) {
        s_vips_failed("cannot decode the image");
        return RU_E_MEDIA_CORRUPT;
    }
    bool ok = true;
    if (vips_image_get_interpretation(img) != VIPS_INTERPRETATION_sRGB)
        ok = s_step(&img, &next, vips_colourspace(img, &next, VIPS_INTERPRETATION_sRGB, NULL));
    if (ok && vips_image_get_format(img) != VIPS_FORMAT_UCHAR)
        ok = s_step(&img, &next, vips_cast_uchar(img, &next, NULL));
    if (ok && (ok = s_step(&img, &next, vips_copy(img, &next, NULL)))) {
        vips_image_remove(img, VIPS_META_ICC_NAME);
        vips_image_remove(img, VIPS_META_ORIENTATION);
    }
    if (ok)
        ok = (next = vips_image_copy_memory(img)) != NULL && s_step(&img, &next, 0);
    if (!ok) {
        s_vips_failed("cannot decode the image");
        g_object_unref(img);
        return RU_E_MEDIA_CORRUPT;
    }
    *out = img;
    return RU_OK;
}

/*  Drops an alpha channel that is opaque everywhere (a GIF's always has
 *  one), so that the image is written as JPEG. img is in memory. */
static ru_err
s_drop_opaque_alpha(VipsImage **img)
{
    if (!vips_image_hasalpha(*img))
        return RU_OK;
    VipsImage *alpha, *colour;
    double min;
    int bands = vips_image_get_bands(*img);
    if (vips_extract_band(*img, &alpha, bands - 1, NULL))
        return RU_E_NOMEM;
    int rc = vips_min(alpha, &min, NULL);
    g_object_unref(alpha);
    if (rc)
        return RU_E_NOMEM;
    if (min < 255)
        return RU_OK;
    if (vips_extract_band(*img, &colour, 0, "n", bands - 1, NULL))
        return RU_E_NOMEM;
    VipsImage *mem = vips_image_copy_memory(colour);
    g_object_unref(colour);
    if (!mem)
        return RU_E_NOMEM;
    g_object_unref(*img);
    *img = mem;
    return RU_OK;
}

/*  img encoded into *f: PNG when it has alpha, JPEG otherwise, no metadata. */
static ru_err
s_encode(VipsImage *img, ru_image_file_t *f)
{
    int rc;
    if (vips_image_hasalpha(img)) {
        f->mime = "image/png";
        rc = vips_pngsave_buffer(img, &f->data, &f->len, "strip", TRUE, NULL);
    } else {
        f->mime = "image/jpeg";
        rc = vips_jpegsave_buffer(img, &f->data, &f->len, "Q", RU_IMAGE_JPEG_QUALITY, "strip", TRUE,
                                  "optimize_coding", TRUE, NULL);
    }
    if (rc) {
        s_vips_failed("cannot encode the image");
        f->data = NULL, f->len = 0, f->mime = NULL;
        return RU_E_NOMEM;
    }
    f->width = vips_image_get_width(img);
    f->height = vips_image_get_height(img);
    return RU_OK;
}

/*  The blurhash of img (in memory), transparency drawn over white. */
static ru_err
s_blurhash(VipsImage *img, char out[RU_BLURHASH_MAX])
{
    VipsImage *rgb = img;
    g_object_ref(rgb);
    if (vips_image_hasalpha(img)) {
        VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
        VipsImage *flat = NULL, *u8 = NULL;
        int rc =
            vips_flatten(img, &flat, "background", white, NULL) || vips_cast_uchar(flat, &u8, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (flat)
            g_object_unref(flat);
        if (rc) {
            g_object_unref(rgb);
            return RU_E_NOMEM;
        }
        g_object_unref(rgb);
        rgb = u8;
    }
    if (vips_image_get_bands(rgb) != 3 || vips_image_get_format(rgb) != VIPS_FORMAT_UCHAR) {
        ru_log_err("image", "blurhash of an image of %d bands", vips_image_get_bands(rgb));
        g_object_unref(rgb);
        return RU_E_INVALID; /* s_display made it sRGB: not reached */
    }
    size_t size;
    uint8_t *px = vips_image_write_to_memory(rgb, &size);
    int w = vips_image_get_width(rgb), h = vips_image_get_height(rgb);
    g_object_unref(rgb);
    if (!px)
        return RU_E_NOMEM;
    ru_err err =
        ru_blurhash_encode(px, w, h, (size_t) w * 3, RU_IMAGE_BLURHASH_X, RU_IMAGE_BLURHASH_Y, out);
    g_free(px);
    return err;
}

/*  The thumbnail of the display image, encoded, and its blurhash. */
static ru_err
s_thumb(VipsImage *display, int px, ru_image_t *out)
{
    VipsImage *t, *mem;
    if (vips_thumbnail_image(display, &t, px, "height", px, "size", VIPS_SIZE_DOWN, "no_rotate",
                             TRUE, NULL)) {
        s_vips_failed("cannot make the thumbnail");
        return RU_E_NOMEM;
    }
    mem = vips_image_copy_memory(t);
    g_object_unref(t);
    if (!mem)
        return RU_E_NOMEM;
    ru_err err = s_encode(mem, &out->thumb);
    if (!err)
        err = s_blurhash(mem, out->blurhash);
    g_object_unref(mem);
    return err;
}

ru_err
ru_image_process(const void *data, size_t len, const ru_image_opts_t *opts, ru_image_t *out)
{
    memset(out, 0, sizeof *out);
    if (!s_started || !opts || !s_opts_valid(opts) || (!data && len))
        return RU_E_INVALID;
    bool heic = opts->heic && s_heic, icc = false;
    ru_err err = s_check_type(data, len, heic, out->source_mime);
    if (!err)
        err = s_check_header(data, len, opts, out, &icc);
    VipsImage *display = NULL;
    if (!err)
        err = s_display(data, len, opts->display_px, icc, &display);
    if (!err)
        err = s_drop_opaque_alpha(&display);
    if (!err)
        err = s_encode(display, &out->display);
    if (!err)
        err = s_thumb(display, opts->thumb_px, out);
    if (display)
        g_object_unref(display);
    if (err) {
        char mime[RU_SNIFF_MIME_MAX];
        memcpy(mime, out->source_mime, sizeof mime);
        ru_image_fini(out);
        memcpy(out->source_mime, mime, sizeof mime);
        return err;
    }
    return RU_OK;
}

void
ru_image_fini(ru_image_t *img)
{
    if (!img)
        return;
    g_free(img->display.data);
    g_free(img->thumb.data);
    memset(img, 0, sizeof *img);
}

void
ru_image_thread_end(void)
{
    vips_thread_shutdown();
}
