/* checkpoint_net.h — a network rebuilt from its checkpoint alone: every checkpoint that
 * `tconv train` writes carries its network description (meta/net, docs/checkpoints.md).
 *
 *   tc_netdesc *d; tc_model *m; tc_net *net;
 *   if (tc_ckpt_load_net("run/checkpoint.npz", &d, &m, &net) != TC_OK)
 *     fprintf(stderr, "%s\n", tc_last_error());
 *   tc_net_forward(net, g, 1, in_names, &x, "decoder_up2", 0, &y);
 *   tc_net_free(net); tc_model_free(m); tc_netdesc_free(d);
 */
#ifndef TC_CHECKPOINT_NET_H
#define TC_CHECKPOINT_NET_H

#include "layers/netfile.h"
#include "optim/checkpoint.h"

/* Parses meta/net, creates a model with the run's seed (meta/rng), builds the network and
 * loads its variables (optimizer slots and other metadata are ignored). The caller frees
 * the three. TC_ERR_NOT_FOUND for a checkpoint without meta/net (an older writer's: build
 * the network yourself and tc_ckpt_load it); any other error of parsing, building or
 * loading, with nothing left allocated. */
tc_status tc_ckpt_load_net(const char *path, tc_netdesc **desc, tc_model **model,
                           tc_net **net);

#endif
