/* fuzz_net.c — libFuzzer target for the network-file parser (docs/networks.md): any bytes
 * given to tc_netdesc_parse must give a status, never a crash, a leak or undefined
 * behaviour. What parses must write back to text that parses to an equal description
 * (tc_netdesc_write), and its full config (tc_netdesc_write_config) must parse too, as a
 * checkpoint's meta/net is read back. A second parse sets the variable `scale` from
 * outside, the path `tconv train --net F --var scale=3` takes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layers/netfile.h"

static void need(int ok) {
  if (!ok)
    abort();
}

/* text (written by tconv) must parse; with `same`, to a description equal to d. */
static void reparse(const tc_netdesc *d, const char *text, int same) {
  tc_netdesc *back = NULL;
  need(tc_netdesc_parse(&back, text, strlen(text), "back.net", NULL, 0) == TC_OK);
  if (same)
    need(tc_netdesc_equal(d, back));
  tc_netdesc_free(back);
}

static void round_trip(const tc_netdesc *d) {
  char *text = NULL;
  if (tc_netdesc_write(d, &text) == TC_OK) /* only TC_ERR_NOMEM may fail it */
    reparse(d, text, 1);
  free(text);
  text = NULL;
  if (tc_netdesc_write_config(d, &text) == TC_OK)
    reparse(d, text, 0);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024) /* the 1 MiB limit is tested apart; longer inputs only repeat lines */
    return 0;
  const char *text = (const char *)data; /* not NUL-terminated: the parser takes a length */
  tc_netdesc *d = NULL;
  if (tc_netdesc_parse(&d, text, size, "fuzz.net", NULL, 0) == TC_OK) {
    need(d != NULL && d->n_nodes >= 1 && d->n_outputs >= 1);
    round_trip(d);
    tc_netdesc_free(d);
  } else {
    need(d == NULL);
  }
  const tc_net_var set[1] = {{"scale", "3"}};
  if (tc_netdesc_parse(&d, text, size, "fuzz.net", set, 1) == TC_OK) {
    round_trip(d);
    tc_netdesc_free(d);
  }
  return 0;
}
