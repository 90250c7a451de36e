/* bicubic.h — bicubic upscaling exactly as PyTorch's
 * F.interpolate(x, size=(H, W), mode='bicubic', align_corners=False) computes it on the CPU
 * in float32, so a PyTorch twin reproduces the "bicubic xS baseline" of `tconv train
 * --pairs sr:S` (docs/data.md): Keys' cubic convolution with a = -0.75, half-pixel centres
 * (source = (dst + 0.5) * in / out - 0.5, not clamped), the four taps' indices clamped to
 * the image's edge, rows first then columns. The result is not clipped to [0, 1]. */
#ifndef TC_BICUBIC_H
#define TC_BICUBIC_H

/* src is h x w x c (channels last); dst is oh x ow x c. Nothing prints. */
void tc_bicubic_resize(const float *src, int h, int w, int c, float *dst, int oh, int ow);

#endif
