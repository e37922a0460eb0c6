/*  ru_client.c - JSON over HTTP with libcurl (see ru_client.h).
 *
 *  One easy handle per client, reset before each request so no option
 *  leaks from one request into the next, while its connection cache lets
 *  the requests of one command share a connection. The reply body is
 *  gathered into a buffer with a hard size cap, parsed with jansson, then
 *  wiped: a login reply carries a token.
 */
#include "ru_client.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ru_secret.h"
#include "ruche/ru_buf.h"

#ifndef RUCHE_VERSION
#define RUCHE_VERSION "unknown"
#endif

struct ru_client {
    CURL *curl;
    char *server;
    char *auth; /* "Authorization: Bearer TOKEN", secret memory, or NULL */
    long connect_ms;
    long total_ms;
    ru_buf_t body; /* the reply being read */
    int too_big;   /* the reply went over RU_CLIENT_MAX_REPLY */
    FILE *sink;    /* ru_client_download: where a 2xx body goes */
    size_t sunk;   /* bytes written there */
    char *link;    /* Link header of the reply being read */
    char curl_error[CURL_ERROR_SIZE];
    char error[CURL_ERROR_SIZE + 256];
};

ru_err
ru_client_global_init(void)
{
    if (sodium_init() < 0)
        return RU_E_NOMEM;
    ru_secret_json_wipe();
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? RU_OK : RU_E_NOMEM;
}

void
ru_client_global_fini(void)
{
    curl_global_cleanup();
}

void
ru_reply_fini(ru_reply_t *reply)
{
    json_decref(reply->json);
    free(reply->link);
    memset(reply, 0, sizeof *reply);
}

const char *
ru_reply_message(const ru_reply_t *reply)
{
    const char *m = json_string_value(json_object_get(reply->json, "error_description"));
    if (m == NULL || m[0] == '\0')
        m = json_string_value(json_object_get(reply->json, "error"));
    return m != NULL && m[0] != '\0' ? m : NULL;
}

ru_client_t *
ru_client_new(const char *server)
{
    ru_client_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->curl = curl_easy_init();
    self->server = strdup(server);
    self->connect_ms = RU_CLIENT_CONNECT_MS;
    self->total_ms = RU_CLIENT_TOTAL_MS;
    ru_buf_init(&self->body);
    if (self->curl == NULL || self->server == NULL)
        ru_client_destroy(&self);
    return self;
}

/*  Forgets the reply being read, wiping its bytes. */
static void
s_reset_reply(ru_client_t *self)
{
    if (self->body.data != NULL)
        sodium_memzero(self->body.data, self->body.cap);
    ru_buf_reset(&self->body);
    self->too_big = 0;
    free(self->link);
    self->link = NULL;
}

void
ru_client_destroy(ru_client_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ru_client_t *self = *self_p;
    s_reset_reply(self);
    ru_buf_fini(&self->body);
    if (self->curl != NULL)
        curl_easy_cleanup(self->curl);
    ru_secret_free(&self->auth);
    free(self->server);
    free(self);
    *self_p = NULL;
}

ru_err
ru_client_set_token(ru_client_t *self, const char *token)
{
    static const char prefix[] = "Authorization: Bearer ";
    ru_secret_free(&self->auth);
    if (token == NULL)
        return RU_OK;
    if (sodium_init() < 0)
        return RU_E_NOMEM;
    size_t n = sizeof prefix + strlen(token);
    self->auth = sodium_malloc(n);
    if (self->auth == NULL)
        return RU_E_NOMEM;
    (void) snprintf(self->auth, n, "%s%s", prefix, token);
    return RU_OK;
}

void
ru_client_set_timeouts(ru_client_t *self, long connect_ms, long total_ms)
{
    self->connect_ms = connect_ms;
    self->total_ms = total_ms;
}

const char *
ru_client_server(const ru_client_t *self)
{
    return self->server;
}

const char *
ru_client_error(const ru_client_t *self)
{
    return self->error[0] ? self->error : "no error";
}

/*  libcurl hands over the body in pieces: keep them, up to the cap. */
static size_t
s_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    ru_client_t *self = arg;
    size_t n = size * nmemb;
    long status = 0;
    (void) curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &status);
    if (self->sink != NULL && status >= 200 && status <= 299) {
        self->sunk += n;
        return fwrite(data, 1, n, self->sink) == n ? n : 0;
    }
    if (n > RU_CLIENT_MAX_REPLY - self->body.len) {
        self->too_big = 1;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    ru_buf_append(&self->body, data, n);
    return self->body.failed ? 0 : n;
}

/*  Keeps the Link header of the last response (a new status line starts a
 *  new response, e.g. after "100 Continue"); repeated ones are joined. */
static size_t
s_on_header(char *data, size_t size, size_t nitems, void *arg)
{
    ru_client_t *self = arg;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        free(self->link);
        self->link = NULL;
    } else if (n > 5 && strncasecmp(data, "link:", 5) == 0) {
        size_t skip = 5 + strspn(data + 5, " \t");
        size_t len = n > skip ? n - skip : 0;
        while (len > 0 && (data[skip + len - 1] == '\r' || data[skip + len - 1] == '\n'))
            len--;
        size_t old = self->link ? strlen(self->link) : 0;
        char *joined = realloc(self->link, old + len + 3);
        if (joined == NULL)
            return 0;
        (void) snprintf(joined + old, len + 3, "%s%.*s", old ? ", " : "", (int) len, data + skip);
        self->link = joined;
    }
    return n;
}

/*  The request headers, with the Content-Type line type ("Content-Type:"
 *  to send none, NULL to leave it to libcurl, as a multipart body's is);
 *  the Authorization line comes from secret memory and its copy in the
 *  list is wiped by s_free_headers. */
static struct curl_slist *
s_headers(const ru_client_t *self, const char *type)
{
    struct curl_slist *list = curl_slist_append(NULL, "Accept: application/json");
    if (list != NULL && type != NULL)
        list = curl_slist_append(list, type);
    if (list != NULL && self->auth != NULL)
        list = curl_slist_append(list, self->auth);
    return list;
}

static void
s_free_headers(struct curl_slist *list)
{
    for (struct curl_slist *h = list; h != NULL; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(list);
}

/*  Sets every option of one request on the reset handle; its body is
 *  mime when not NULL, else body (may be NULL). */
static CURLcode
s_setup(ru_client_t *self, const char *method, const char *url, struct curl_slist *headers,
        const char *body, curl_mime *mime)
{
    CURL *c = self->curl;
    CURLcode rc = curl_easy_setopt(c, CURLOPT_URL, url);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, self->connect_ms);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, self->total_ms);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_USERAGENT, "ruche/" RUCHE_VERSION);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_ERRORBUFFER, self->curl_error);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_WRITEDATA, self);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_on_header);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_HEADERDATA, self);
    if (strcmp(method, "GET") == 0)
        return rc ? rc : curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (mime != NULL)
        return rc ? rc : curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    if (strcmp(method, "POST") == 0)
        rc = rc ? rc : curl_easy_setopt(c, CURLOPT_POST, 1L);
    else
        rc = rc ? rc : curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL || strcmp(method, "POST") == 0) {
        rc = rc ? rc : curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        rc = rc ? rc : curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) (body ? strlen(body) : 0));
    }
    return rc;
}

/*  Turns the bytes of the reply into reply->json. */
static ru_err
s_parse(ru_client_t *self, ru_reply_t *reply)
{
    if (self->body.len == 0)
        return RU_OK;
    json_error_t jerr;
    reply->json = json_loadb((const char *) self->body.data, self->body.len, 0, &jerr);
    if (reply->json != NULL || reply->status >= 400)
        return RU_OK; /* an error page that is not JSON still has its status */
    if (json_error_code(&jerr) == json_error_premature_end_of_input) {
        (void) snprintf(self->error, sizeof self->error,
                        "the reply of %s ends early (%zu bytes): it was cut short", self->server,
                        self->body.len);
        return RU_E_TRUNCATED;
    }
    (void) snprintf(self->error, sizeof self->error,
                    "the reply of %s (HTTP %ld) is not JSON: %s at byte %d", self->server,
                    reply->status, jerr.text, jerr.position);
    return RU_E_TYPE;
}

/*  Runs the request set up on the handle and reads the reply. */
static ru_err
s_perform(ru_client_t *self, ru_reply_t *reply)
{
    self->curl_error[0] = '\0';
    CURLcode rc = curl_easy_perform(self->curl);
    (void) curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &reply->status);
    if (self->too_big) {
        (void) snprintf(self->error, sizeof self->error, "the reply of %s is larger than %u bytes",
                        self->server, RU_CLIENT_MAX_REPLY);
        return RU_E_TOO_BIG;
    }
    if (rc == CURLE_WRITE_ERROR && self->body.failed)
        return RU_E_NOMEM;
    if (rc != CURLE_OK) {
        (void) snprintf(self->error, sizeof self->error, "request to %s failed: %s", self->server,
                        self->curl_error[0] ? self->curl_error : curl_easy_strerror(rc));
        return RU_E_IO;
    }
    if (reply->status >= 300 && reply->status < 400) {
        (void) snprintf(self->error, sizeof self->error,
                        "%s answered with a redirect (HTTP %ld): check the server URL",
                        self->server, reply->status);
        return RU_E_IO;
    }
    if (self->sink != NULL && reply->status >= 200 && reply->status <= 299)
        return RU_OK; /* the body went to the file, and is no JSON */
    ru_err e = s_parse(self, reply);
    if (e == RU_OK && self->link != NULL) {
        reply->link = self->link;
        self->link = NULL;
    }
    return e;
}

/*  Sends method to path with body, JSON (secret memory, wiped and freed
 *  here) or mime (a multipart body, or NULL), and reads the reply. */
static ru_err
s_request(ru_client_t *self, const char *method, const char *path, char *text, curl_mime *mime,
          ru_reply_t *reply)
{
    size_t n = strlen(self->server) + strlen(path) + 1;
    char *url = malloc(n);
    /* without a body, "Content-Type:" stops libcurl's form type on a POST */
    struct curl_slist *headers = s_headers(self, mime   ? NULL
                                                 : text ? "Content-Type: application/json"
                                                        : "Content-Type:");
    ru_err e = url && headers ? RU_OK : RU_E_NOMEM;
    if (e == RU_OK) {
        (void) snprintf(url, n, "%s%s", self->server, path);
        curl_easy_reset(self->curl);
        CURLcode rc = s_setup(self, method, url, headers, text, mime);
        if (rc == CURLE_OK)
            e = s_perform(self, reply);
        else
            (void) snprintf(self->error, sizeof self->error, "cannot set up the request: %s",
                            curl_easy_strerror(rc));
        e = rc == CURLE_OK ? e : RU_E_IO;
    }
    if (e == RU_E_NOMEM && self->error[0] == '\0')
        (void) snprintf(self->error, sizeof self->error, "out of memory");
    curl_easy_reset(self->curl); /* drops its pointers to what is freed below */
    s_free_headers(headers);
    ru_secret_free(&text);
    free(url);
    s_reset_reply(self);
    return e;
}

ru_err
ru_client_call(ru_client_t *self, const char *method, const char *path, const json_t *body,
               ru_reply_t *reply)
{
    char *text = NULL;
    self->error[0] = '\0';
    s_reset_reply(self);
    if (body != NULL && ru_secret_json_dump(body, JSON_COMPACT, &text) != RU_OK) {
        (void) snprintf(self->error, sizeof self->error, "out of memory");
        return RU_E_NOMEM;
    }
    return s_request(self, method, path, text, NULL, reply);
}

/*  The multipart body of an upload: a part "file" with the bytes of the
 *  file at path, named name, and a part "description" when it is not
 *  NULL. NULL when memory runs out. */
static curl_mime *
s_upload_mime(ru_client_t *self, const char *path, const char *name, const char *description)
{
    curl_mime *mime = curl_mime_init(self->curl);
    curl_mimepart *file = mime ? curl_mime_addpart(mime) : NULL;
    int bad = file == NULL || curl_mime_name(file, "file") != CURLE_OK ||
              curl_mime_filedata(file, path) != CURLE_OK ||
              curl_mime_filename(file, name) != CURLE_OK;
    if (!bad && description != NULL) {
        curl_mimepart *desc = curl_mime_addpart(mime);
        bad = desc == NULL || curl_mime_name(desc, "description") != CURLE_OK ||
              curl_mime_data(desc, description, CURL_ZERO_TERMINATED) != CURLE_OK;
    }
    if (bad) {
        curl_mime_free(mime);
        return NULL;
    }
    return mime;
}

ru_err
ru_client_upload(ru_client_t *self, const char *path, const char *file, const char *name,
                 const char *description, ru_reply_t *reply)
{
    self->error[0] = '\0';
    s_reset_reply(self);
    curl_mime *mime = s_upload_mime(self, file, name, description);
    if (mime == NULL) {
        (void) snprintf(self->error, sizeof self->error, "out of memory");
        return RU_E_NOMEM;
    }
    long total_ms = self->total_ms;
    self->total_ms = 0; /* a large file takes its time; the connect timeout stays */
    ru_err e = s_request(self, "POST", path, NULL, mime, reply);
    self->total_ms = total_ms;
    curl_mime_free(mime);
    return e;
}

ru_err
ru_client_download(ru_client_t *self, const char *path, FILE *out, ru_reply_t *reply,
                   size_t *written)
{
    long total_ms = self->total_ms;
    self->sink = out;
    self->sunk = 0;
    self->total_ms = 0; /* a large store takes its time; the connect timeout stays */
    ru_err e = ru_client_call(self, "GET", path, NULL, reply);
    *written = self->sunk;
    self->sink = NULL;
    self->total_ms = total_ms;
    if (e == RU_E_IO && ferror(out))
        (void) snprintf(self->error, sizeof self->error, "cannot write the reply of %s",
                        self->server);
    return e;
}
