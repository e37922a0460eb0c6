/*  ru_render.h - the text the CLI shows for statuses, accounts, people
 *  found in the directory and groups.
 *
 *  Input is the server's JSON (Mastodon's shapes plus the "ruche" object);
 *  output goes to a FILE. Every string from the server passes through
 *  ru_html (content and notes converted from HTML, names cleaned), so no
 *  control character reaches the terminal. A missing or mistyped field is
 *  shown as "?" or 0; it never stops the rendering.
 *
 *  A status reads:
 *      @alice (paris) · 2026-11-27 14:03 · id 109 · ♥ 2 · ↩ 1 [edited]
 *      CW: its content warning, when it has one
 *      the content as text, wrapped at 80 columns
 *        [image] A cat, asleep · 1280×960 · 812 KB · https://...
 *      (blank line)
 *  with " · group NAME" and the visibility (when not public) before
 *  "[edited]". Each attachment has a line: its type (", sensitive" for a
 *  status marked so), its description or else its file name (cut after
 *  RU_RENDER_ALT_CHARS characters), its sides for an image, its size in
 *  bytes, its URL ("(processing)" while it has none) and "(on its way
 *  from its site)" while this node has not fetched its file yet; from
 *  Mastodon's attachment and ruche's object in it ("name", "size",
 *  "pending"). In a timeline, a status with a content warning is
 *  collapsed to its header and
 *      CW: its content warning (ruche thread ID to read; 2 attachments)
 *  while a thread shows it whole. Times are shown in the local time zone
 *  (TZ).
 *
 *  Apart from the FILE writes and the local time zone, the functions are
 *  pure.
 */
#ifndef RU_RENDER_H
#define RU_RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "ruche/ru_error.h"

/*  Width the text is wrapped at, and the narrowest it gets when indented. */
#define RU_RENDER_WIDTH 80
#define RU_RENDER_MIN_WIDTH 40
/*  Deepest indentation of a reply in a thread (two columns per level). */
#define RU_RENDER_MAX_DEPTH 10
/*  Characters of a description shown on an attachment's line. */
#define RU_RENDER_ALT_CHARS 60
/*  Bytes of the buffer ru_render_time writes: "2026-11-27 14:03" and NUL. */
#define RU_RENDER_TIME_SIZE 17

/*  Reads an ISO 8601 time as servers send it, "2026-11-27T14:03:22Z",
 *  with optional fractions of a second and a "Z" or "+hh:mm" / "-hh:mm"
 *  offset, into seconds since the epoch. RU_E_TEXT_FORM otherwise. */
RU_MUST_CHECK ru_err ru_render_parse_time(const char *iso, time_t *out);

/*  Writes iso as "YYYY-MM-DD HH:MM" in local time into out (size bytes,
 *  at least RU_RENDER_TIME_SIZE); "?" when iso is NULL or malformed. */
void ru_render_time(const char *iso, char *out, size_t size);

/*  Writes the header line of a status (see above), newline included. */
RU_MUST_CHECK ru_err ru_render_status_header(FILE *out, const json_t *status);

/*  Writes a status whole: header, content warning, wrapped content,
 *  attachments, blank line; indented by two columns per depth (capped at
 *  RU_RENDER_MAX_DEPTH). RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_render_status(FILE *out, const json_t *status, int depth);

/*  Writes each status of a JSON array (a timeline), depth 0, those with a
 *  content warning collapsed. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_render_statuses(FILE *out, const json_t *statuses);

/*  Computes each status's depth in a thread listed in order (ancestors,
 *  the status, descendants): the depth of the status its in_reply_to_id
 *  names plus one when that status comes earlier in the list, else 0.
 *  statuses has n entries; depths receives n values. */
void ru_render_depths(const json_t *const *statuses, size_t n, int *depths);

/*  Writes an account: "@acct (display name)" (the name only when it is
 *  not the user name), the counts, the note as text, a blank line.
 *  RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_render_account(FILE *out, const json_t *account);

/*  Writes a person found in the directory (an Account of GET
 *  /api/ruche/v1/people) on one line: "@acct · name · title · department
 *  · site", the name only when it is not the user name, the directory's
 *  fields only when set. With tags (a "who can help" search: the
 *  subject's tags, ru_people_help_tags), a second line says what made
 *  their score, from ruche.match: "  score 13: skill, title or
 *  department, 3 posts tagged #bgp". RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_render_person(FILE *out, const json_t *account, const char *tags);

/*  Writes a group: one line "ID  name · N members[ · member]" and its
 *  description indented below; with detailed, also who created it and
 *  when. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_render_group(FILE *out, const json_t *group, int detailed);

#endif
