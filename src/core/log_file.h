/*
 * log_file.h: opening SOCKPOOL_LOG_FILE so that neither the open nor the
 * file can harm the program.
 *
 * The open never blocks (a FIFO nobody reads would otherwise hang even
 * /bin/true in our constructor), and the file is kept on a private fd:
 * high, close-on-exec, like the pool's idle sockets.  log.c checks before
 * each line that the fd still holds this file, so a program that closes
 * its fds and opens files of its own never gets our lines in them.
 */
#ifndef SOCKPOOL_CORE_LOG_FILE_H
#define SOCKPOOL_CORE_LOG_FILE_H

/*
 * Opens path for appending (made 0600 if missing) on an fd >= floor.  The
 * fd stays non-blocking: a full FIFO drops a line rather than stall the
 * program.  The fd, or -1 with errno set (ENXIO: a FIFO with no reader).
 */
int log_file_open(const char *path, int floor);

#endif
