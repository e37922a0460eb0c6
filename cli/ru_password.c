/*  ru_password.c - a password from a line of input or from the terminal
 *  with echo off (see ru_password.h).
 *
 *  While echo is off, the saved terminal settings sit in static storage so
 *  that a signal handler can put them back before the signal takes its
 *  default course; tcsetattr is async-signal-safe.
 */
#include "ru_password.h"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const int s_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define S_NSIGNALS (sizeof s_signals / sizeof s_signals[0])

static volatile sig_atomic_t s_tty_fd = -1;
static struct termios s_tty_saved;

ru_err
ru_password_read_line(FILE *in, char **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return RU_E_NOMEM;
    char *buf = sodium_malloc(RU_PASSWORD_MAX + 2);
    if (buf == NULL)
        return RU_E_NOMEM;
    size_t len = 0;
    int c = 0;
    while (len < RU_PASSWORD_MAX + 1 && (c = getc(in)) != EOF && c != '\n')
        buf[len++] = (char) c;
    ru_err e = RU_OK;
    if (c == EOF && len == 0)
        e = RU_E_IO;
    else if (len > RU_PASSWORD_MAX)
        e = RU_E_TOO_BIG;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (e == RU_OK && len == 0)
        e = RU_E_INVALID;
    if (e != RU_OK) {
        sodium_free(buf);
        return e;
    }
    buf[len] = '\0';
    *out = buf;
    return RU_OK;
}

static void
s_restore_tty(void)
{
    if (s_tty_fd >= 0)
        (void) tcsetattr(s_tty_fd, TCSAFLUSH, &s_tty_saved);
}

static void
s_on_signal(int sig)
{
    s_restore_tty();
    (void) signal(sig, SIG_DFL);
    (void) raise(sig);
}

/*  Installs (on != 0) or removes the handlers that restore the terminal. */
static void
s_guard(int on, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    (void) sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < S_NSIGNALS; i++)
        (void) sigaction(s_signals[i], on ? &sa : &old[i], on ? &old[i] : NULL);
}

ru_err
ru_password_prompt(const char *prompt, char **out)
{
    struct sigaction old[S_NSIGNALS];
    struct termios quiet;
    *out = NULL;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return RU_E_NOT_FOUND;
    FILE *tty = fdopen(fd, "r+");
    if (tty == NULL || tcgetattr(fd, &s_tty_saved) != 0) {
        if (tty != NULL)
            (void) fclose(tty);
        else
            (void) close(fd);
        return RU_E_NOT_FOUND;
    }
    quiet = s_tty_saved;
    quiet.c_lflag &= (tcflag_t) ~ECHO;
    s_guard(1, old);
    s_tty_fd = fd;
    (void) tcsetattr(fd, TCSAFLUSH, &quiet);
    (void) fputs(prompt, tty);
    (void) fflush(tty);
    ru_err e = ru_password_read_line(tty, out);
    s_restore_tty();
    s_tty_fd = -1;
    s_guard(0, old);
    (void) fputs("\n", tty);
    (void) fclose(tty);
    return e;
}
