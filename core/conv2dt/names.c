/* names.c — the names of the transposed convolution's settings and choices, both ways:
 * padding and data_format strings parsed (TF's spellings, any case) and printed, and the
 * algorithm and direction names that the plan's description and the errors use. Kept apart
 * from plan.c so that the files of this room can name things without calling the plan. */
#include "core/conv2dt.h"

#include <ctype.h>

#include "core/conv2dt/internal.h"

static int ascii_iequal(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

tc_status tc_padding_parse(const char *s, tc_padding *out) {
  if (!s || !out)
    return tc_set_error(TC_ERR_INVALID_ARG, "padding: string or output pointer is NULL");
  if (ascii_iequal(s, "valid")) {
    *out = TC_PADDING_VALID;
  } else if (ascii_iequal(s, "same")) {
    *out = TC_PADDING_SAME;
  } else {
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "padding '%s' is not known; accepted: 'valid', 'same' (any case)", s);
  }
  return TC_OK;
}

tc_status tc_data_format_parse(const char *s, tc_data_format *out) {
  if (!s || !out)
    return tc_set_error(TC_ERR_INVALID_ARG, "data_format: string or output pointer is NULL");
  if (ascii_iequal(s, "channels_last") || ascii_iequal(s, "nhwc")) {
    *out = TC_CHANNELS_LAST;
  } else if (ascii_iequal(s, "channels_first") || ascii_iequal(s, "nchw")) {
    *out = TC_CHANNELS_FIRST;
  } else {
    return tc_set_error(TC_ERR_INVALID_ARG,
                        "data_format '%s' is not known; accepted: 'channels_last', "
                        "'channels_first', 'NHWC', 'NCHW' (any case)",
                        s);
  }
  return TC_OK;
}

const char *tc_padding_name(tc_padding p) {
  switch (p) {
  case TC_PADDING_VALID: return "valid";
  case TC_PADDING_SAME: return "same";
  }
  return "unknown";
}

const char *tc_data_format_name(tc_data_format f) {
  switch (f) {
  case TC_CHANNELS_LAST: return "channels_last";
  case TC_CHANNELS_FIRST: return "channels_first";
  }
  return "unknown";
}

static const char *const algo_names[TC_CONV2DT_ALGOS] = {"direct", "igemm", "few_filters",
                                                        "tasks", "slabs"};
static const char *const dir_names[TC_CONV2DT_DIRS] = {"forward", "backward_data",
                                                       "backward_weights"};

const char *tc_conv2dt_algo_name(tc_conv2dt_algo algo) {
  return algo >= 0 && algo < TC_CONV2DT_ALGOS ? algo_names[algo] : "unknown";
}

const char *tc_conv2dt_dir_name(tc_conv2dt_dir dir) {
  return dir >= 0 && dir < TC_CONV2DT_DIRS ? dir_names[dir] : "unknown";
}
