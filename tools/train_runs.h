/* train_runs.h — the two training programs behind `tconv train --model ...`. Each builds its
 * network, resumes if asked, trains, reports, writes PNGs and checkpoints. *stopped is 1
 * when Ctrl-C ended the run early, 2 when --max-steps did (after its checkpoint was saved). */
#ifndef TC_TRAIN_RUNS_H
#define TC_TRAIN_RUNS_H

#include "tools/dataset.h"
#include "tools/train_opts.h"

tc_status tc_train_autoencoder(const tc_train_opts *o, const tc_dataset *train,
                               const tc_dataset *test, int *stopped);
tc_status tc_train_dcgan(const tc_train_opts *o, const tc_dataset *train, int *stopped);

#endif
