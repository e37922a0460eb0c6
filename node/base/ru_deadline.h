/*  ru_deadline.h - a time some milliseconds from now on the monotonic
 *  clock, for pthread_cond_timedwait on a condition variable made with
 *  pthread_condattr_setclock(CLOCK_MONOTONIC): a wait with a bound that
 *  a change of the wall clock neither cuts short nor stretches.
 */
#ifndef RU_DEADLINE_H
#define RU_DEADLINE_H

#include <time.h>

/*  Sets *ts to ms milliseconds (0 or more) from now, CLOCK_MONOTONIC. */
void ru_deadline(struct timespec *ts, long ms);

#endif
