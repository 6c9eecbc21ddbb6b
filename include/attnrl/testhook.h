/*
 * testhook.h - the test hooks: how the crash/resume and device tests reach states that would
 * otherwise take a crash, a non-finite gradient or a GPU. Every hook is one environment variable
 * of the table in testhook.c, read once (the first time a hook is asked); with none set, every
 * hook is a no-op. docs/testing.md lists them for the tests that use them.
 *
 *   ATTNRL_TEST_KILL_AT=phase:step[:TERM|:USR1|:INT|:INT2]
 *       testhook_point(phase, step) raises SIGKILL there, or the signal named (INT2: SIGINT
 *       twice, a second Ctrl-C). Phases: startup (step 0: the run folder locked, nothing loaded
 *       yet), rollout (after the rollout, before the update), update (after the first optimizer
 *       step), eval (the eval of the step begins; step 0: the eval before the first step), log
 *       (after the step's log lines), ckpt_write (model written, optimizer not yet),
 *       ckpt_rename (the folder renamed, no DONE yet), after_ckpt (DONE written).
 *       tests/test_resume.sh, tests/test_runfolder.sh.
 *   ATTNRL_TEST_NAN_AT=3,4,7
 *       testhook_nan(step) is 1 at those steps: the trainer makes their loss NaN.
 *       tests/test_resume.sh.
 *   ATTNRL_TEST_TRAIN_COPY=f32|bf16
 *       testhook_train_copy(): a CPU run trains a separate copy of the policy as a GPU run does
 *       (host mirror, syncs, staging), in fp32 or with the GPU's bf16 forward.
 *       tests/test_device.sh.
 */
#ifndef ATTNRL_TESTHOOK_H
#define ATTNRL_TESTHOOK_H

enum testhook_copy { TESTHOOK_COPY_NONE, TESTHOOK_COPY_F32, TESTHOOK_COPY_BF16 };

void testhook_point(const char *phase, long step);
int testhook_nan(long step);
enum testhook_copy testhook_train_copy(void);

#endif
