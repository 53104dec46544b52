/* A TensorBoard event file: TFRecord records, each an Event message
 * (tensorboard/compat/proto/event.proto).  docs/tensorboard.md describes
 * the file. */
#ifndef CLCNN_CLI_TB_EVENTS_H
#define CLCNN_CLI_TB_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "tb_proto.h"

typedef struct tb_events tb_events;

/* Creates dir (and its missing parents) if need be, then a new file
 * dir/events.out.tfevents.SECONDS.HOST.PID.clcnn, the name TensorBoard
 * looks for, and writes its first record: the Event with file_version
 * "brain.Event:2".  On failure prints one error line naming dir or the
 * file and returns non-zero. */
int tb_events_open(tb_events **out, const char *dir);

/* Appends an Event at step holding the encoded Summary message, stamped
 * with the time now.  Returns non-zero (having printed nothing) when the
 * write fails or summary ran out of memory: see tb_events_error. */
int tb_events_write_summary(tb_events *e, int64_t step, const pb_buf *summary);

/* Hands what is buffered to the file system, so that a running
 * TensorBoard sees it; non-zero on failure. */
int tb_events_flush(tb_events *e);

/* The file's path and, after a failure, why ("No space left on device"). */
const char *tb_events_path(const tb_events *e);
const char *tb_events_error(const tb_events *e);

/* Flushes and closes the file (NULL: nothing); non-zero when that fails
 * or an earlier write had failed.  A failure first met here is printed
 * (earlier ones were the caller's to report). */
int tb_events_close(tb_events *e);

#endif
