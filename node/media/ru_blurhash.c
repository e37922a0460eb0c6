/*  ru_blurhash.c - the blurhash encoder (see ru_blurhash.h).
 *
 *  Component (i, j) of a channel is the mean over the pixels of the
 *  channel's linear-light value times cos(pi i x / w) * cos(pi j y / h),
 *  doubled for every component but (0, 0). The basis is separable, so the
 *  image is read once, row by row: each row is reduced to its x_comp
 *  horizontal sums (one cosine per pixel, the higher frequencies by the
 *  recurrence cos(k t) = 2 cos(t) cos((k-1) t) - cos((k-2) t)), and each
 *  row's sums are added into every vertical component with that row's
 *  cos(pi j y / h). That is one cosine per pixel instead of one per pixel
 *  and component, and no memory beyond the 3 * 81 sums on the stack.
 *
 *  The string: one digit for the component counts, one for the largest AC
 *  magnitude (quantised to 1/166 steps), four for the DC colour (sRGB 8-bit
 *  R, G, B as one 24-bit number), then two per AC component: each channel
 *  divided by the maximum, square-rooted with its sign kept, mapped to
 *  0..18 and packed as r * 361 + g * 19 + b. All digits are base 83.
 */
#include <math.h>

#include "ru_blurhash.h"

#define S_PI 3.14159265358979323846
#define S_COMP_MAX (RU_BLURHASH_COMP_MAX * RU_BLURHASH_COMP_MAX)

static const char s_base83[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

/*  Appends value as digits base-83 digits at *p. */
static void
s_put83(char **p, long value, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        long v = value;
        for (int k = 0; k < i; k++)
            v /= 83;
        *(*p)++ = s_base83[v % 83];
    }
}

static double
s_to_linear(uint8_t c)
{
    double v = c / 255.0;
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/*  A linear-light value back to its 8-bit sRGB code, clamped. */
static long
s_to_srgb(double v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    if (v <= 0.0031308)
        return (long) (v * 12.92 * 255 + 0.5);
    return (long) ((1.055 * pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
}

static double
s_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/*  One AC channel value, divided by the maximum, as 0..18. */
static long
s_quant_ac(double v, double max)
{
    double r = v / max;
    double s = r < 0 ? -sqrt(-r) : sqrt(r);
    return (long) s_clamp(floor(s * 9 + 9.5), 0, 18);
}

/*  The components of the image into f[j * x_comp + i][channel], scaled. */
static void
s_components(const uint8_t *rgb, int w, int h, size_t stride, int xc, int yc,
             double f[S_COMP_MAX][3])
{
    double lin[256];
    for (int c = 0; c < 256; c++)
        lin[c] = s_to_linear((uint8_t) c);
    for (int k = 0; k < xc * yc; k++)
        f[k][0] = f[k][1] = f[k][2] = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = rgb + (size_t) y * stride;
        double rs[RU_BLURHASH_COMP_MAX][3] = {{0}};
        for (int x = 0; x < w; x++) {
            double c1 = cos(S_PI * x / w), prev = 1, cur = c1;
            const uint8_t *px = row + (size_t) x * 3;
            double r = lin[px[0]], g = lin[px[1]], b = lin[px[2]];
            rs[0][0] += r, rs[0][1] += g, rs[0][2] += b;
            for (int i = 1; i < xc; i++) {
                rs[i][0] += cur * r, rs[i][1] += cur * g, rs[i][2] += cur * b;
                double next = 2 * c1 * cur - prev;
                prev = cur, cur = next;
            }
        }
        for (int j = 0; j < yc; j++) {
            double cy = cos(S_PI * j * y / h);
            for (int i = 0; i < xc; i++)
                for (int c = 0; c < 3; c++)
                    f[j * xc + i][c] += cy * rs[i][c];
        }
    }
    for (int k = 0; k < xc * yc; k++)
        for (int c = 0; c < 3; c++)
            f[k][c] *= (k == 0 ? 1.0 : 2.0) / ((double) w * h);
}

ru_err
ru_blurhash_encode(const uint8_t *rgb, int width, int height, size_t stride, int x_comp, int y_comp,
                   char out[RU_BLURHASH_MAX])
{
    out[0] = '\0';
    if (!rgb || width < 1 || height < 1 || stride / 3 < (size_t) width ||
        x_comp < RU_BLURHASH_COMP_MIN || x_comp > RU_BLURHASH_COMP_MAX ||
        y_comp < RU_BLURHASH_COMP_MIN || y_comp > RU_BLURHASH_COMP_MAX)
        return RU_E_INVALID;
    double f[S_COMP_MAX][3];
    s_components(rgb, width, height, stride, x_comp, y_comp, f);
    int n = x_comp * y_comp;
    char *p = out;
    s_put83(&p, (x_comp - 1) + (y_comp - 1) * 9, 1);
    double max = 1;
    if (n > 1) {
        double actual = 0;
        for (int k = 1; k < n; k++)
            for (int c = 0; c < 3; c++)
                actual = fmax(actual, fabs(f[k][c]));
        long q = (long) s_clamp(floor(actual * 166 - 0.5), 0, 82);
        max = (q + 1) / 166.0;
        s_put83(&p, q, 1);
    } else
        s_put83(&p, 0, 1);
    s_put83(&p, (s_to_srgb(f[0][0]) << 16) + (s_to_srgb(f[0][1]) << 8) + s_to_srgb(f[0][2]), 4);
    for (int k = 1; k < n; k++)
        s_put83(&p,
                s_quant_ac(f[k][0], max) * 19 * 19 + s_quant_ac(f[k][1], max) * 19 +
                    s_quant_ac(f[k][2], max),
                2);
    *p = '\0';
    return RU_OK;
}
