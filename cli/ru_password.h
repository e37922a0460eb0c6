/*  ru_password.h - reading a password for "ruche login".
 *
 *  Either one line from standard input (for scripts: --password-stdin),
 *  or typed at the terminal without echo. The terminal is /dev/tty, not
 *  standard input, so a prompt works even when input is redirected; echo
 *  comes back on return and also when SIGINT, SIGTERM, SIGHUP or SIGQUIT
 *  end the program at the prompt.
 */
#ifndef RU_PASSWORD_H
#define RU_PASSWORD_H

#include <stdio.h>

#include "ruche/ru_error.h"

/*  Longest password accepted, in bytes. */
#define RU_PASSWORD_MAX 1024

/*  Reads one line from in, without its line end, into secret memory
 *  (ru_secret_free() it). RU_E_INVALID if the line is empty, RU_E_TOO_BIG
 *  if it is over RU_PASSWORD_MAX bytes, RU_E_IO if in ends or fails first
 *  (an empty input), RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_password_read_line(FILE *in, char **out);

/*  Writes prompt to the terminal, reads the password with echo off, into
 *  secret memory. RU_E_NOT_FOUND if the process has no terminal, other
 *  errors as ru_password_read_line. */
RU_MUST_CHECK ru_err ru_password_prompt(const char *prompt, char **out);

#endif
