/*
 * log.h: the shim's one way to say something.
 *
 * Default output is silence unless something is wrong (level warn).  A
 * message is formatted on the stack and written with one write(2) through
 * the real libc call, so lines from threads do not interleave and logging
 * never re-enters our own hooks.  Nothing here allocates.
 */
#ifndef SOCKPOOL_CORE_LOG_H
#define SOCKPOOL_CORE_LOG_H

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Where and how much to log: fd is the program's (usually 2), written
 * as it is. */
void log_setup(enum log_level level, int fd);

/* The same for a file of our own on a private fd (SOCKPOOL_LOG_FILE,
 * log_file.h): lines go to fd only while it holds that same file, then
 * nowhere.  0, or -1 (nothing changed) when fd cannot be looked at. */
int log_setup_private(enum log_level level, int fd);

/* True when a message at level would be written: test before building
 * expensive arguments. */
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) do { if (log_enabled(LOG_LEVEL_INFO)) log_msg(LOG_LEVEL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_enabled(LOG_LEVEL_DEBUG)) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

#endif
