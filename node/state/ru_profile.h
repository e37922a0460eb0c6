/*  ru_profile.h - a local user's profile changed in part: what a change
 *  names is set, the rest is kept from the profile they have.
 *
 *  Three writers change profiles: the employee (display name, note, avatar,
 *  header, profile fields, skills: the API's update_credentials), the
 *  site's directory sync (the employee's entry in the company directory:
 *  their directory id, title, department, site, office, phone, e-mail,
 *  manager, whether they left, and the display name and photo when the
 *  directory owns them) and each sign-in through the company's OpenID
 *  provider (the display name and the parts of the entry that its claims
 *  give: directory id, e-mail, department, site). None may undo another's
 *  part, and they may run at once: so the change is merged with the
 *  current profile inside the store actor's transaction (a request of
 *  ru_writer.h), which reads the profile and makes the update as one step.
 *
 *  A change that leaves the profile as it is makes no update: a sync of
 *  77,000 employees publishes only those whose entry changed, a sign-in
 *  only when the provider's claims changed.
 */
#ifndef RU_PROFILE_H
#define RU_PROFILE_H

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_writer.h"

/*  The parts of a person's directory entry, for a change that sets some
 *  of them alone (set_parts): a sign-in through the OpenID provider sets
 *  those its claims give and keeps the others, which the directory sync
 *  may have set. */
enum {
    RU_PROFILE_DIR_ID = 1u << 0,
    RU_PROFILE_TITLE = 1u << 1,
    RU_PROFILE_DEPARTMENT = 1u << 2,
    RU_PROFILE_SITE = 1u << 3,
    RU_PROFILE_OFFICE = 1u << 4,
    RU_PROFILE_PHONE = 1u << 5,
    RU_PROFILE_EMAIL = 1u << 6,
    RU_PROFILE_MANAGER = 1u << 7,
    RU_PROFILE_DEPARTED = 1u << 8,
    RU_PROFILE_ENTRY = (1u << 9) - 1 /* all of them: set_entry */
};

/*  The parts a change sets (a set flag each); the strings are the
 *  caller's and must outlive the call. */
typedef struct {
    const char *name; /* the local user whose profile it is */
    ru_str_t display_name;
    ru_str_t note;
    ru_media_t avatar;
    ru_media_t header;
    ru_person_t person;
    int set_display;
    int set_note;
    int set_avatar; /* has_avatar 0: none */
    int has_avatar;
    int set_header;
    int has_header;
    int set_fields;     /* person.fields, n_fields */
    int set_skills;     /* person.skills, n_skills */
    int set_entry;      /* person's directory entry: dir_id, title, department,
                           site, office, phone, email, manager, departed */
    unsigned set_parts; /* some parts of the entry alone (RU_PROFILE_*) */
} ru_profile_change_t;

/*  Applies c as a request of the writer (ru_writer_call): a profile update
 *  of c->name signed by this node, unless nothing changes (*made 0).
 *  Errors of ru_apply_local and of the update's rules (a field too long:
 *  the encoder's error). */
RU_MUST_CHECK ru_err ru_profile_change(ru_writer_t *writer, const ru_profile_change_t *c,
                                       int *made);
/*  n changes in one request of the writer (one durable commit for all:
 *  what a directory sync of thousands needs), made[i] for each. One that
 *  fails fails them all (none is made): the caller may then try them one
 *  by one to find it. */
RU_MUST_CHECK ru_err ru_profile_change_many(ru_writer_t *writer, const ru_profile_change_t *c,
                                            size_t n, int *made);

#endif
