/*  ru_image.h - a photo from a post, checked, decoded and re-encoded into
 *  what the node stores and serves: a display image, a thumbnail and the
 *  thumbnail's blurhash. Pure code on bytes (libvips, libmagic): no LMDB,
 *  no HTTP, no sockets; the upload API calls it from a worker thread.
 *
 *  An upload is anything anyone sends, and image decoders are where the
 *  CVEs are, so the bytes pass these gates before a single pixel is
 *  decoded, and the first that fails refuses the upload:
 *    1. libmagic (ru_sniff) says the content is JPEG, PNG, WebP or GIF
 *       (HEIC/HEIF only with opts.heic): never the name, never the
 *       client's type. SVG, TIFF, PDF, HTML and the rest are refused here.
 *    2. libvips's own choice of loader for the bytes is the one for that
 *       type. libvips itself may run no other loader: ru_image_init blocks
 *       every one but those (TIFF, SVG, PDF, ImageMagick... are compiled
 *       into Debian's libvips and reachable from a buffer).
 *    3. The header alone: width and height each at most opts.max_side and
 *       width x height x pages at most opts.max_pixels. A PNG whose header
 *       claims 100,000 x 100,000 is refused here in under a millisecond,
 *       with no memory taken (libvips's vipsthumbnail, which has no such
 *       check, spent 8.6 s and 354 MB on one of 370 bytes, and succeeded).
 *    4. Decoding fails on the first error (libvips's fail_on=error): a
 *       truncated or corrupt file is refused, not completed in grey.
 *  What comes out is always re-encoded, never the uploaded bytes: turned
 *  upright by its EXIF orientation, converted to sRGB (through its ICC
 *  profile when it has one), stripped of every piece of metadata (EXIF
 *  with GPS position and camera serial, XMP, IPTC, ICC), and written as
 *  JPEG at quality RU_IMAGE_JPEG_QUALITY when opaque or PNG when it has
 *  transparency (an alpha channel opaque everywhere, which libvips gives
 *  every GIF, does not count). Bytes of another format riding behind the
 *  image (a GIF+HTML polyglot) are not in the output. An animated GIF or
 *  WebP becomes its first frame (ru_image_t.frames says how many the
 *  source had).
 *
 *  The display image fits within display_px x display_px and the
 *  thumbnail within thumb_px x thumb_px, aspect kept, never enlarged:
 *  a small image comes out at its own size. The blurhash is that of the
 *  thumbnail (4 x 3 components), transparency drawn over white.
 *
 *  Threads: ru_image_init once, before any other call, on one thread.
 *  After it, ru_image_process may run on any number of threads at once.
 *  A thread that called ru_image_process calls ru_image_thread_end before
 *  it exits (libvips keeps buffers per thread).
 */
#ifndef RU_IMAGE_H
#define RU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "ru_blurhash.h"
#include "ru_sniff.h"
#include "ruche/ru_error.h"

/*  Defaults of the options (the [media] section of the config). HEIC is off
 *  by default: its decoder, libde265, has a long record of memory-safety
 *  bugs, and one 12-megapixel HEIC costs ~0.5 s and ~200 MB. */
#define RU_IMAGE_MAX_PIXELS 50000000L
#define RU_IMAGE_MAX_SIDE 16384
#define RU_IMAGE_DISPLAY_PX 1920
#define RU_IMAGE_THUMB_PX 480
#define RU_IMAGE_HEIC false
/*  libvips worker threads per image. One suits a pool of workers that each
 *  run one image: the pool, not libvips, uses the cores. */
#define RU_IMAGE_CONCURRENCY 1

#define RU_IMAGE_JPEG_QUALITY 85
#define RU_IMAGE_BLURHASH_X 4
#define RU_IMAGE_BLURHASH_Y 3
/*  The largest display_px accepted in the options. */
#define RU_IMAGE_PX_MAX 8192

typedef struct {
    long max_pixels; /* width x height x pages of the source, at most */
    int max_side;    /* width and height of the source, each at most */
    int display_px;  /* the display image fits display_px x display_px */
    int thumb_px;    /* the thumbnail fits thumb_px x thumb_px; <= display_px */
    bool heic;       /* HEIC/HEIF read (ru_image_init must have allowed it) */
} ru_image_opts_t;

/*  One encoded output. data is owned by the ru_image_t it is part of. */
typedef struct {
    void *data;       /* the encoded file */
    size_t len;       /* its size in bytes */
    const char *mime; /* "image/jpeg" or "image/png", a static string */
    int width, height;
} ru_image_file_t;

/*  What ru_image_process makes. */
typedef struct {
    ru_image_file_t display;             /* the image people look at */
    ru_image_file_t thumb;               /* the preview in timelines */
    char blurhash[RU_BLURHASH_MAX];      /* of the thumbnail, 4 x 3 */
    char source_mime[RU_SNIFF_MIME_MAX]; /* the upload's type, sniffed */
    int source_width, source_height;     /* the upload's size, upright */
    int frames;                          /* 1, or the animation's frames */
} ru_image_t;

/*  The defaults above. */
void ru_image_opts_default(ru_image_opts_t *opts);

/*  Starts libvips for this process: every loader blocked but the JPEG,
 *  PNG, WebP and GIF buffer loaders (and HEIF when heic), the operation
 *  cache off (each upload is seen once), concurrency worker threads per
 *  image (RU_IMAGE_CONCURRENCY suits a worker pool), and libvips's
 *  warnings sent to the node's log. Once per process, before any other
 *  call and before threads use it; a second call is RU_E_INVALID. RU_E_IO
 *  (logged) when libvips cannot start. */
RU_MUST_CHECK ru_err ru_image_init(bool heic, int concurrency);

/*  Checks and re-encodes the len bytes at data (not modified, not kept)
 *  under opts into *out (which need not be initialised), whose buffers the
 *  caller frees with ru_image_fini. On an error *out holds no buffer, only
 *  source_mime when the type was sniffed (to say "image/tiff is not
 *  accepted"); ru_image_fini on it is harmless. Errors:
 *    RU_E_MEDIA_TYPE        not an image of an accepted type (step 1 or 2)
 *    RU_E_MEDIA_DIMENSIONS  over max_side or max_pixels (step 3)
 *    RU_E_MEDIA_CORRUPT     the decoder failed: truncated, corrupt (step 4)
 *    RU_E_INVALID           opts out of range, or ru_image_init not called
 *    RU_E_IO                libmagic failed (logged)
 *    RU_E_NOMEM             libvips could not allocate or encode (logged)
 *  Any thread, several at once.
 *
 *  Memory and time of one image, default options, concurrency 1, each in
 *  a fresh process on a 2-core machine (tests/bench/bench_media --worst):
 *  the process's peak (VmHWM), of which ~31 MB is the baseline of a
 *  process with libvips started and the input's size is the buffer the
 *  caller holds; the rest is this call's own share.
 *    input                               input   peak     own     time
 *    4000 x 3000 JPEG photo, Q92         3.4 MB   67 MB   33 MB   0.2 s
 *    16384 x 3051 JPEG (max_side wide)    28 MB   73 MB   14 MB   0.4 s
 *      the same with EXIF orientation 6   28 MB   74 MB   15 MB   0.4 s
 *    7071 x 7071 PNG RGB (max_pixels)    127 MB  197 MB   40 MB   1.0 s
 *    10000 x 5000 PNG RGB, orientation 6 122 MB  201 MB   48 MB   1.4 s
 *    7071 x 7071 PNG RGBA                147 MB  309 MB  132 MB   2.7 s
 *    7071 x 7071 GIF                      39 MB  295 MB  225 MB   1.0 s
 *  JPEG shrinks while it decodes and PNG streams, but a GIF frame is
 *  decoded whole (width x height x 4 bytes: 200 MB at max_pixels), and
 *  transparency is resized at 4 bytes a sample. So one call may take
 *  ~230 MB beyond its input at the default max_pixels (that much scales
 *  with max_pixels); N workers at once need N times that, plus their
 *  inputs, plus the baseline once. Noise PNGs this size compress badly:
 *  an upload size limit keeps the inputs far smaller, not the own share
 *  (a GIF of one colour is small). */
RU_MUST_CHECK ru_err ru_image_process(const void *data, size_t len, const ru_image_opts_t *opts,
                                      ru_image_t *out);

/*  Frees what ru_image_process made and empties *img. NULL-safe; safe on
 *  an ru_image_t that ru_image_process left empty. */
void ru_image_fini(ru_image_t *img);

/*  Frees libvips's buffers kept for the calling thread: call it at the end
 *  of every thread that ran ru_image_process. */
void ru_image_thread_end(void);

#endif
