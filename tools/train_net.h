/* train_net.h — the network of a `tconv train` run as a description (docs/networks.md):
 * from --net FILE, or the shipped file a --model name stands for; the command line's
 * layer options and --latent are set as the description's variables. */
#ifndef TC_TRAIN_NET_H
#define TC_TRAIN_NET_H

#include "layers/netfile.h"
#include "tools/train_opts.h"

typedef struct tc_builtin_net {
  const char *name, *text;
} tc_builtin_net;

/* The shipped networks (examples/nets/, built in), ending with {NULL, NULL}. */
extern const tc_builtin_net tc_builtin_nets[];

/* The text of a shipped network, or NULL. */
const char *tc_builtin_net_text(const char *name);

/* Parses o->net_file, or the shipped file of o->model, with o's variables: latent when
 * o->latent > 0, and each layer option given on the command line. */
tc_status tc_train_net_desc(const tc_train_opts *o, tc_netdesc **out);
/* The text of o->net_file or of the shipped file of o->model (malloc'd). */
tc_status tc_train_net_source(const tc_train_opts *o, char **text);
/* Parses source (name "" = the shipped file of o->model) with the variables of vars_text
 * ("name=value" lines, may be NULL) replaced by o's; *vars (may be NULL) gets the text of
 * the variables set, for meta/net_vars. */
tc_status tc_train_net_parse(const tc_train_opts *o, const char *source, const char *name,
                             const char *vars_text, tc_netdesc **out, char **vars);
/* The latent size: a gan's generator input, or the units of a node encoder_latent; -1. */
long tc_train_net_latent(const tc_netdesc *d);

/* The network a checkpoint carries (meta/net_source with meta/net_vars, o's layer options
 * replacing them); TC_ERR_NOT_FOUND for a checkpoint of an older writer. An option that
 * builds another network than meta/net is an error naming the option and the value the
 * checkpoint was trained with. *source (may be NULL) gets meta/net_source. */
tc_status tc_train_net_from_ckpt(const tc_train_opts *o, const char *ckpt, tc_netdesc **out,
                                 char **source, char **vars);

/* After the options: the description into o->net (from --net, --model, or with --resume the
 * checkpoint's own), the model kind from its loss (gan: the DCGAN loop, otherwise the
 * reconstruction loop), a gan's latent size, and the texts checkpoints keep. Returns 0, or
 * 2 with one line on stderr. */
int tc_train_net_prepare(tc_train_opts *o);
/* o->options_text, once the options are resolved. */
void tc_train_net_options(tc_train_opts *o);
/* Points meta's texts at o's (saved in every checkpoint of the run). */
struct tc_ckpt_meta;
void tc_train_net_meta(const tc_train_opts *o, struct tc_ckpt_meta *meta);

/* The loss node of a reconstruction description: `loss ... output=`, else its only output;
 * *input: the one input that node depends on. Errors name the file. */
tc_status tc_train_net_io(const tc_netdesc *d, int *output, int *input);

#endif
