/*  ru_blurhash.h - the blurhash of an image: a short ASCII string (about
 *  20 to 30 characters) from which a client draws a blurred placeholder
 *  while the image itself loads. Mastodon clients read it from a media
 *  attachment's "blurhash" field.
 *
 *  The string is the published blurhash format: the image's colours in
 *  linear light, reduced to x_comp * y_comp cosine components (the lowest
 *  frequencies of a 2-D DCT), quantised and written in base 83. Any
 *  blurhash decoder reads what this encoder writes; the unit test pins
 *  the output to strings made by another implementation.
 *
 *  Pure computation: no allocation, no global state; safe from any number
 *  of threads at once.
 */
#ifndef RU_BLURHASH_H
#define RU_BLURHASH_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"

/*  Components per axis: 1 to 9 (the format's size flag holds no more). */
#define RU_BLURHASH_COMP_MIN 1
#define RU_BLURHASH_COMP_MAX 9

/*  The longest string, with its NUL: size flag, maximum, DC (4 digits) and
 *  two digits per AC component. */
#define RU_BLURHASH_MAX (1 + 1 + 4 + 2 * (RU_BLURHASH_COMP_MAX * RU_BLURHASH_COMP_MAX - 1) + 1)

/*  Writes into out (a caller buffer of RU_BLURHASH_MAX bytes) the NUL-ended
 *  blurhash of the width x height image at rgb: 8-bit sRGB pixels, three
 *  bytes each (R, G, B), rows stride bytes apart (stride >= 3 * width).
 *  x_comp and y_comp components across and down (4 and 3 suit a landscape
 *  photo). RU_E_INVALID, with out left empty, for a size below 1 x 1, a
 *  short stride or a component count out of range. */
RU_MUST_CHECK ru_err ru_blurhash_encode(const uint8_t *rgb, int width, int height, size_t stride,
                                        int x_comp, int y_comp, char out[RU_BLURHASH_MAX]);

#endif
