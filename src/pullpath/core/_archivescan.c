/*
 * pullpath.core._archivescan: count diagnostic-archive JSON lines into groups, in C.
 *
 * Pure: bytes in, counts out; no I/O. The Python side (adapters/logs_fast.py) owns the
 * semantics: this module only takes the lines it can PROVE it reads the way the event-by-event
 * reader does (orjson.loads + core.records.parse_record), and hands every other line back
 * ("fallback") for Python to read. What it takes:
 *
 *   - a line that is one JSON object, optionally surrounded by spaces, tabs or a CR;
 *   - strict JSON (RFC 8259) within a conservative subset: valid UTF-8, no control characters,
 *     escapes \" \\ \/ \b \f \n \r \t and \uXXXX outside the surrogate range, numbers of at
 *     most 15 digits before and after the point and no exponent, nesting at most 32 deep;
 *   - top-level keys: the archive's mapped keys spelled exactly (time, category, resourceId,
 *     operationName, identity, resultType, resultDescription, callerIpAddress, correlationId,
 *     properties), each at most once, and any other ASCII key without "_", " ", "[" or
 *     escapes that parse_record ignores (its lower-cased form maps to no field);
 *   - "properties" an object with the same rule for its keys (repository, tag, loginServer,
 *     digest, userAgent mapped);
 *   - the deciding values (all mapped keys but correlationId, digest and userAgent) JSON strings
 *     without escapes, at most MAX_VALUE bytes; "time" in the form
 *     YYYY-MM-DDTHH:MM:SS[.fffffffff]Z with valid ranges (read as datetime.fromisoformat does:
 *     fractions cut to microseconds).
 *
 * Lines are grouped by their raw key: which mapped keys are present and the bytes of the
 * deciding values. parse_record's outcome (with the time set aside) depends on nothing else,
 * so one resolution per group (in Python, on the group's first line) is exact. A caller
 * "a.b.c.d:port" is keyed without its port when the port cannot change the caller's flow
 * address: at once when Python said so for the whole first octet (ask_octets zero), else once
 * Python has judged the address (set_host; the scan stops before the line until then).
 *
 * A group's key starts with its template: the key without the identity and caller values
 * (groups with one template resolve alike but for those two fields). Groups beyond max_groups
 * are not stored: their lines are counted as overflow.
 *
 * The scanners of one scan (one per thread) share a Catalog: every distinct raw key gets one
 * global group id and every distinct template one template id there, whichever scanner meets
 * it first, so Python resolves each template and each group once and never sees a raw key.
 * A scanner keeps its own table of the keys it has met (no lock per line) and consults the
 * catalog, under the catalog's own lock, only for a key new to itself. The catalog also
 * records which groups Python has resolved (Catalog.resolved, called once the Python side
 * holds a group's key and whether it is an error): a scanner meeting a group resolved already
 * hands no news for it (no Python object is made), so each group reaches Python about once
 * per scan rather than once per scanner. A group the catalog knows but Python has not
 * resolved yet (another scanner's news, still being resolved) is news again, so every group
 * a scanner counts is resolved before its caller reads the counts. At 1M events on two
 * workers (33,932 groups; docs/performance.md, 2026-12-07) this cut the news from 66,850 to
 * 41,170 (150 files) and from 66,280 to 35,910 (one file split in ranges); the rest are
 * groups both workers met before either's news was resolved. Each news item costs about
 * 0.5 us here (a tuple and three str objects) before Python's part.
 *
 * Duplicates across inputs (set_duplicates): each line's fingerprint is made here exactly as
 * core.records.fingerprint makes it from the event (hash() of the same bytes: the correlation
 * ID and operation lower-cased, the time's second modulo 900). A line whose fingerprint is
 * among the earlier inputs' (a sorted array) falls back, for Python to judge and count; so
 * does one whose values this module cannot lower-case as Python does (not ASCII, escapes, a
 * correlation ID that is not a string). The fingerprints of the lines scanned are kept for
 * Python to collect (fingerprints()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <datetime.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_VALUE 2048
#define MAX_DEPTH 32
#define MAX_DIGITS 15

/* line outcomes in the per-line array */
#define LINE_FALLBACK (-1)
#define LINE_OVERFLOW (-2)
#define LINE_PENDING (-4) /* not counted: the scan stops before it (see set_host) */

/* deciding values: key slots in order; the template is slots [0, TEMPLATE_SLOTS) */
enum {
    S_CATEGORY, S_RESOURCE, S_OPERATION, S_RESULT_TYPE, S_RESULT_DESC,
    S_REPOSITORY, S_TAG, S_LOGIN_SERVER,
    TEMPLATE_SLOTS,
    S_IDENTITY = TEMPLATE_SLOTS, S_CALLER,
    N_SLOTS
};

/* presence bits of mapped keys */
enum {
    B_TIME = 1u << 0, B_CATEGORY = 1u << 1, B_RESOURCE = 1u << 2, B_OPERATION = 1u << 3,
    B_IDENTITY = 1u << 4, B_RESULT_TYPE = 1u << 5, B_RESULT_DESC = 1u << 6,
    B_CALLER = 1u << 7, B_CORRELATION = 1u << 8, B_PROPERTIES = 1u << 9,
    B_REPOSITORY = 1u << 10, B_TAG = 1u << 11, B_LOGIN_SERVER = 1u << 12,
    B_DIGEST = 1u << 13, B_USER_AGENT = 1u << 14,
    B_CALLER_PORT = 1u << 15 /* the caller slot holds a host whose port was dropped */
};

typedef struct {
    const char *name;
    int len;
    uint32_t bit;
    int slot; /* -1: not deciding (value validated, not kept); -2: time; -3: properties;
                 -4: a key parse_record ignores (the archive's unmapped keys: no bit);
                 -5: the correlation ID (not deciding; kept for fingerprints) */
} KeySpec;

/* length, first and last byte: one integer compare finds the candidate key */
#define SIGNATURE(s, n) ((uint32_t)(n) | (uint32_t)(s)[0] << 8 | (uint32_t)(s)[(n) - 1] << 16)

/* in the order the archive writes them (see match_key) */
static const KeySpec TOP_KEYS[] = {
    {"time", 4, B_TIME, -2},
    {"category", 8, B_CATEGORY, S_CATEGORY},
    {"resourceId", 10, B_RESOURCE, S_RESOURCE},
    {"operationName", 13, B_OPERATION, S_OPERATION},
    {"identity", 8, B_IDENTITY, S_IDENTITY},
    {"location", 8, 0, -4},
    {"level", 5, 0, -4},
    {"resultType", 10, B_RESULT_TYPE, S_RESULT_TYPE},
    {"resultDescription", 17, B_RESULT_DESC, S_RESULT_DESC},
    {"durationMs", 10, 0, -4},
    {"callerIpAddress", 15, B_CALLER, S_CALLER},
    {"correlationId", 13, B_CORRELATION, -5},
    {"properties", 10, B_PROPERTIES, -3},
    {"RegionStamp", 11, 0, -4},
    {NULL, 0, 0, 0},
};

static const KeySpec PROP_KEYS[] = {
    {"tag", 3, B_TAG, S_TAG},
    {"digest", 6, B_DIGEST, -1},
    {"mediaType", 9, 0, -4},
    {"repository", 10, B_REPOSITORY, S_REPOSITORY},
    {"artifactType", 12, 0, -4},
    {"size", 4, 0, -4},
    {"loginServer", 11, B_LOGIN_SERVER, S_LOGIN_SERVER},
    {"userAgent", 9, B_USER_AGENT, -1},
    {"tenantId", 8, 0, -4},
    {"jwtId", 5, 0, -4},
    {NULL, 0, 0, 0},
};

/* core.records._FIELD_KEYS (normalised keys) and "properties": a key whose lower-cased form
 * is one of these is read by parse_record; any such key not spelled as above falls back.
 * tests/core/test_archivescan.py holds this list to _FIELD_KEYS. */
static const char *const MAPPED_NORMALISED[] = {
    "time", "timegenerated", "timegeneratedutc", "category", "type", "operationname",
    "calleripaddress", "identity", "repository", "tag", "digest", "loginserver", "useragent",
    "resulttype", "resultdescription", "correlationid", "resourceid", "tablename", "properties",
    NULL,
};

/* ------------------------------------------------------------------------ parsing */

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} Cursor;

typedef struct {
    uint32_t mask;
    const unsigned char *val[N_SLOTS];
    uint32_t len[N_SLOTS];
    const unsigned char *time;
    uint32_t time_len;
    const unsigned char *cid; /* the correlation ID's bytes when cid_plain */
    uint32_t cid_len;
    int cid_plain; /* a JSON string without escapes */
} Fields;

static inline void skip_ws(Cursor *c) {
    while (c->p < c->end && *c->p <= ' ' && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
        c->p++;
}

/* a[0, n) == b[0, n), both readable over n bytes (short keys: no call to memcmp) */
static inline int same_bytes(const unsigned char *a, const unsigned char *b, uint32_t n) {
    if (n >= 8) {
        uint64_t x, y;
        uint32_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) return 0;
        }
        if (i == n) return 1;
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        if (x != y) return 0;
        memcpy(&x, a + n - 4, 4);
        memcpy(&y, b + n - 4, 4);
        return x == y;
    }
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static inline int hexval(unsigned char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* One UTF-8 sequence starting at c->p (first byte >= 0x80); 0 when invalid. */
static inline int utf8_seq(Cursor *c) {
    const unsigned char *s = c->p;
    ptrdiff_t room = c->end - s;
    unsigned char b0 = s[0];
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (room < 2 || (s[1] & 0xC0) != 0x80) return 0;
        c->p += 2;
        return 1;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (room < 3 || (s[2] & 0xC0) != 0x80) return 0;
        unsigned char b1 = s[1];
        if (b0 == 0xE0 ? (b1 < 0xA0 || b1 > 0xBF)
            : b0 == 0xED ? (b1 < 0x80 || b1 > 0x9F) /* no UTF-16 surrogates */
            : (b1 & 0xC0) != 0x80)
            return 0;
        c->p += 3;
        return 1;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (room < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        unsigned char b1 = s[1];
        if (b0 == 0xF0 ? (b1 < 0x90 || b1 > 0xBF)
            : b0 == 0xF4 ? (b1 < 0x80 || b1 > 0x8F)
            : (b1 & 0xC0) != 0x80)
            return 0;
        c->p += 4;
        return 1;
    }
    return 0;
}

/* The first byte at or after p that is a quote, a backslash, a control character or non-ASCII:
 * sixteen bytes at a time with SSE2 (a signed "< 0x20" also takes every byte >= 0x80), eight
 * with plain 64-bit words elsewhere (the lowest flagged byte of each test is exact). */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'),
                  space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                                 _mm_cmplt_epi8(v, space));
        int bits = _mm_movemask_epi8(m);
        if (bits) return p + __builtin_ctz((unsigned)bits);
        p += 16;
    }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
        uint64_t m = (w & highs)                              /* >= 0x80 */
                     | ((w - ones * 0x20) & ~w & highs)       /* < 0x20 */
                     | ((quote - ones) & ~quote & highs)      /* '"' */
                     | ((slash - ones) & ~slash & highs);     /* '\\' */
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    return p;
}

/* A string at c->p (on its opening quote). Sets *escaped when it holds an escape; the raw
 * bytes between the quotes are [*start, *start + *len). 0 when outside the subset. */
static inline int parse_string(Cursor *c, const unsigned char **start, uint32_t *len, int *escaped) {
    c->p++; /* the quote */
    const unsigned char *s = c->p;
    int esc = 0;
    while ((c->p = skip_plain(c->p, c->end)) < c->end) {
        unsigned char ch = *c->p;
        if (ch == '"') {
            *start = s;
            *len = (uint32_t)(c->p - s);
            *escaped = esc;
            c->p++;
            return 1;
        }
        if (ch < 0x20) return 0;
        if (ch == '\\') {
            esc = 1;
            if (c->end - c->p < 2) return 0;
            unsigned char e = c->p[1];
            if (e == 'u') {
                if (c->end - c->p < 6) return 0;
                int v = 0;
                for (int i = 2; i < 6; i++) {
                    int h = hexval(c->p[i]);
                    if (h < 0) return 0;
                    v = (v << 4) | h;
                }
                if (v >= 0xD800 && v <= 0xDFFF) return 0; /* surrogates: Python decides */
                c->p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n'
                       || e == 'r' || e == 't') {
                c->p += 2;
            } else {
                return 0;
            }
        } else if (ch < 0x80) {
            c->p++;
        } else if (!utf8_seq(c)) {
            return 0;
        }
    }
    return 0;
}

static int parse_number(Cursor *c) {
    if (c->p < c->end && *c->p == '-') c->p++;
    const unsigned char *digits = c->p;
    if (c->p >= c->end) return 0;
    if (*c->p == '0') {
        c->p++;
    } else if (*c->p >= '1' && *c->p <= '9') {
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    } else {
        return 0;
    }
    if (c->p - digits > MAX_DIGITS) return 0;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        const unsigned char *frac = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
        if (c->p == frac || c->p - frac > MAX_DIGITS) return 0;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) return 0; /* exponents: Python */
    return 1;
}

static int parse_value(Cursor *c, int depth);

static int parse_literal(Cursor *c, const char *word, int n) {
    if (c->end - c->p < n || memcmp(c->p, word, (size_t)n) != 0) return 0;
    c->p += n;
    return 1;
}

/* After an item of an object or array (closed by `close`): 1 at its close (consumed), 0
 * after a comma (the next item is due), -1 for anything else. */
static inline int after_item(Cursor *c, unsigned char close) {
    skip_ws(c);
    if (c->p >= c->end) return -1;
    if (*c->p == ',') {
        c->p++;
        skip_ws(c);
        return 0;
    }
    if (*c->p == close) {
        c->p++;
        return 1;
    }
    return -1;
}

/* Any object or array (not read, only validated). */
static int parse_container(Cursor *c, int depth) {
    if (depth > MAX_DEPTH) return 0;
    unsigned char open = *c->p;
    unsigned char close = open == '{' ? '}' : ']';
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 1;
    }
    for (;;) {
        if (open == '{') {
            const unsigned char *k;
            uint32_t kl;
            int esc;
            if (c->p >= c->end || *c->p != '"' || !parse_string(c, &k, &kl, &esc)) return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':') return 0;
            c->p++;
            skip_ws(c);
        }
        if (!parse_value(c, depth + 1)) return 0;
        int next = after_item(c, close);
        if (next != 0) return next > 0;
    }
}

static int parse_value(Cursor *c, int depth) {
    if (c->p >= c->end) return 0;
    const unsigned char *s;
    uint32_t n;
    int esc;
    switch (*c->p) {
    case '"': return parse_string(c, &s, &n, &esc);
    case '{':
    case '[': return parse_container(c, depth);
    case 't': return parse_literal(c, "true", 4);
    case 'f': return parse_literal(c, "false", 5);
    case 'n': return parse_literal(c, "null", 4);
    default: return parse_number(c);
    }
}

/* -1: a key parse_record reads under another spelling (fall back); 0: a key it ignores. */
static int other_key(const unsigned char *k, uint32_t n) {
    char norm[32];
    for (uint32_t i = 0; i < n; i++) {
        unsigned char ch = k[i];
        /* "_", " " and "[utc]" vanish in norm_key, however long the key ("identity" and 30
         * "_" is read as identity); non-ASCII can lower-case to ASCII */
        if (ch == '_' || ch == ' ' || ch == '[' || ch >= 0x80) return -1;
    }
    if (n >= sizeof norm) return 0; /* nothing vanishes: longer than every mapped key */
    for (uint32_t i = 0; i < n; i++) {
        unsigned char ch = k[i];
        norm[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    norm[n] = 0;
    for (const char *const *m = MAPPED_NORMALISED; *m; m++)
        if (strcmp(norm, *m) == 0) return -1;
    return 0;
}

/* The members of an object whose keys are looked up in `keys` (top level or properties). */
/* The spec of key k in `keys`; *hint is the index after the last match (records keep their
 * keys in one order: the table's, so the first guess is usually right). */
static inline const KeySpec *match_key(const KeySpec *keys, int *hint, const unsigned char *k,
                                       uint32_t kl) {
    const KeySpec *guess = &keys[*hint];
    if (guess->name && (uint32_t)guess->len == kl
        && same_bytes((const unsigned char *)guess->name, k, kl)) {
        (*hint)++;
        return guess;
    }
    if (kl == 0) return NULL;
    uint32_t sig = SIGNATURE(k, kl);
    for (const KeySpec *ks = keys; ks->name; ks++) {
        if (SIGNATURE((const unsigned char *)ks->name, ks->len) == sig
            && same_bytes((const unsigned char *)ks->name, k, kl)) {
            *hint = (int)(ks - keys) + 1;
            return ks;
        }
    }
    return NULL;
}

static int parse_members(Cursor *c, const KeySpec *keys, Fields *f, int depth) {
    int hint = 0;
    c->p++; /* { */
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 1;
    }
    for (;;) {
        const unsigned char *k;
        uint32_t kl;
        int esc;
        const KeySpec *spec;
        const KeySpec *guess = &keys[hint];
        if (guess->name && c->end - c->p > guess->len + 2 && c->p[0] == '"'
            && c->p[guess->len + 1] == '"' && c->p[guess->len + 2] == ':'
            && same_bytes(c->p + 1, (const unsigned char *)guess->name, (uint32_t)guess->len)) {
            /* the key the archive writes next, exactly: no escape can hide in those bytes */
            k = c->p + 1;
            kl = (uint32_t)guess->len;
            c->p += guess->len + 3;
            spec = guess;
            hint++;
        } else {
            if (c->p >= c->end || *c->p != '"' || !parse_string(c, &k, &kl, &esc) || esc)
                return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':') return 0;
            c->p++;
            spec = match_key(keys, &hint, k, kl);
        }
        skip_ws(c);
        if (spec == NULL) {
            if (other_key(k, kl) < 0 || !parse_value(c, depth + 1)) return 0;
        } else if (spec->slot == -4) {
            if (!parse_value(c, depth + 1)) return 0;
        } else {
            if (f->mask & spec->bit) return 0; /* a duplicate: the last one wins in Python */
            f->mask |= spec->bit;
            if (spec->slot == -3) {
                if (c->p >= c->end || *c->p != '{' || !parse_members(c, PROP_KEYS, f, depth + 1))
                    return 0;
            } else if (spec->slot == -1) {
                if (!parse_value(c, depth + 1)) return 0;
            } else if (spec->slot == -5) {
                f->cid_plain = 0;
                if (c->p < c->end && *c->p == '"') {
                    if (!parse_string(c, &f->cid, &f->cid_len, &esc)) return 0;
                    f->cid_plain = !esc;
                } else if (!parse_value(c, depth + 1)) {
                    return 0;
                }
            } else {
                const unsigned char *v;
                uint32_t vl;
                if (c->p >= c->end || *c->p != '"' || !parse_string(c, &v, &vl, &esc) || esc
                    || vl > MAX_VALUE)
                    return 0;
                if (spec->slot == -2) {
                    f->time = v;
                    f->time_len = vl;
                } else {
                    f->val[spec->slot] = v;
                    f->len[spec->slot] = vl;
                }
            }
        }
        int next = after_item(c, '}');
        if (next != 0) return next > 0;
    }
}

static int parse_line(const unsigned char *p, const unsigned char *end, Fields *f) {
    Cursor c = {p, end};
    /* the values are read only where their length or presence bit says so */
    f->mask = 0;
    memset(f->len, 0, sizeof f->len);
    f->time_len = 0;
    f->cid_len = 0;
    f->cid_plain = 0;
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{' || !parse_members(&c, TOP_KEYS, f, 1)) return 0;
    skip_ws(&c);
    return c.p == c.end;
}

/* ------------------------------------------------------------------------ times */

static int digits(const unsigned char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" -> microseconds since the epoch; 0 when not that form. */
static int parse_time(const unsigned char *s, uint32_t n, int64_t *out) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se;
    if (n < 20 || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T'
        || s[13] != ':' || s[16] != ':')
        return 0;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d)
        || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return 0;
    int64_t micros = 0;
    if (n != 20) {
        if (n < 22 || n > 30 || s[19] != '.') return 0;
        /* the first six digits between "." and "Z" are the microseconds (the rest must be
         * digits, then dropped); one multiply per digit, not a division by ten per digit as
         * a falling scale took (~5% of Scanner_scan's own samples) */
        static const int64_t scale[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
        uint32_t frac = n - 21, kept = frac < 6 ? frac : 6;
        for (uint32_t i = 0; i < frac; i++) {
            unsigned char ch = s[20 + i];
            if (ch < '0' || ch > '9') return 0;
            if (i < kept) micros = micros * 10 + (ch - '0');
        }
        micros *= scale[kept];
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *out = secs * 1000000 + micros;
    return 1;
}

/* ------------------------------------------------------------------------ duplicates */

#define FINGERPRINT_PERIOD 900 /* core.records.FINGERPRINT_PERIOD */
#define FINGERPRINT_BYTES (2 * MAX_VALUE + 32)

/* `n` bytes at `s`, spaces trimmed (clean()'s strip: raw JSON strings hold no other ASCII
 * whitespace), lower-cased into `out`; returns the length, or -1 when not ASCII (Python
 * lower-cases other letters its own way). */
static int lower_trimmed(const unsigned char *s, uint32_t n, unsigned char *out) {
    while (n && *s == ' ') {
        s++;
        n--;
    }
    while (n && s[n - 1] == ' ') n--;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x80) return -1;
        out[i] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
    }
    return (int)n;
}

/* core.records.NIL_VALUES: a placeholder is no value (clean() gives "") */
static int is_nil(const unsigned char *s, int n) {
    static const char *const nils[] = {"<nil>", "<null>", "null", "none", "n/a", "-", NULL};
    for (int i = 0; nils[i]; i++)
        if ((int)strlen(nils[i]) == n && memcmp(s, nils[i], (size_t)n) == 0) return 1;
    return 0;
}

/* The line's core.records.fingerprint into *out (0: no correlation ID); 0 when Python must
 * make it. `buf` holds FINGERPRINT_BYTES. */
static int line_fingerprint(const Fields *f, int timed, int64_t when, unsigned char *buf,
                            uint64_t *out) {
    *out = 0;
    if (!(f->mask & B_CORRELATION)) return 1;
    if (!f->cid_plain || f->cid_len > MAX_VALUE) return 0;
    int n = lower_trimmed(f->cid, f->cid_len, buf);
    if (n < 0) return 0;
    if (n == 0 || is_nil(buf, n)) return 1;
    buf[n++] = 0x1f;
    int op = 0;
    if (f->mask & B_OPERATION) {
        op = lower_trimmed(f->val[S_OPERATION], f->len[S_OPERATION], buf + n);
        if (op < 0) return 0;
        if (is_nil(buf + n, op)) op = 0;
    }
    n += op;
    buf[n++] = 0x1f;
    if (timed) {
        int64_t secs = when >= 0 ? when / 1000000 : -((-when + 999999) / 1000000);
        int64_t r = secs % FINGERPRINT_PERIOD;
        n += snprintf((char *)buf + n, 24, "%lld", (long long)(r < 0 ? r + FINGERPRINT_PERIOD : r));
    } else {
        buf[n++] = '-';
    }
    uint64_t h = (uint64_t)_Py_HashBytes(buf, n);
    *out = h ? h : 1;
    return 1;
}

static int in_sorted(const uint64_t *a, Py_ssize_t n, uint64_t x) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == x;
}

/* ------------------------------------------------------------------------ callers */

/* "a.b.c.d:port" with a canonical dotted quad (no leading zeros) and a port 0-65535 of at most
 * five digits (core.audit._port_ok): the address as an integer and the host's length. */
static int ipv4_with_port(const unsigned char *s, uint32_t n, uint32_t *addr, uint32_t *host_len) {
    uint32_t i = 0, value = 0;
    for (int part = 0; part < 4; part++) {
        uint32_t start = i, octet = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3) octet = octet * 10 + (s[i++] - '0');
        if (i == start || octet > 255 || (s[start] == '0' && i - start > 1)) return 0;
        value = (value << 8) | octet;
        if (part < 3) {
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
    }
    if (i >= n || s[i] != ':') return 0;
    uint32_t colon = i++, port = 0, start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 6) port = port * 10 + (s[i++] - '0');
    if (i != n || i == start || i - start > 5 || port > 65535) return 0;
    *addr = value;
    *host_len = colon;
    return 1;
}

/* ------------------------------------------------------------------------ tables */

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Four independent lanes of multiply and xor-shift over 32 bytes a step: one lane's chain of
 * dependent multiplies took ~6 cycles per 8 bytes (the group keys of the bench are ~350 bytes:
 * a third of Scanner_scan's own samples); four lanes run side by side, 32 bytes in those
 * cycles. The last 0-31 bytes go 8 at a time into the lanes, the final partial word read
 * as the key's last 8 bytes (keys of 8 bytes or more; overlap changes no equality). */
#define HASH_K 0x9E3779B97F4A7C15ULL
#define HASH_STEP(h, w) ((h) = ((h) ^ (w)) * HASH_K, (h) ^= (h) >> 29)

static inline uint64_t load8(const unsigned char *s) {
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

static uint64_t hash_bytes(const unsigned char *s, size_t n) {
    uint64_t a = 0x243F6A8885A308D3ULL ^ (uint64_t)n, b = 0x13198A2E03707344ULL,
             c = 0xA4093822299F31D0ULL, d = 0x082EFA98EC4E6C89ULL;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        HASH_STEP(a, load8(s + i));
        HASH_STEP(b, load8(s + i + 8));
        HASH_STEP(c, load8(s + i + 16));
        HASH_STEP(d, load8(s + i + 24));
    }
    if (n >= 8) {
        if (i + 8 <= n) HASH_STEP(b, load8(s + i));
        if (i + 16 <= n) HASH_STEP(c, load8(s + i + 8));
        if (i + 24 <= n) HASH_STEP(d, load8(s + i + 16));
        if (n & 7) HASH_STEP(a, load8(s + n - 8));
    } else {
        uint64_t tail = 0;
        memcpy(&tail, s, n);
        HASH_STEP(a, tail);
    }
    return mix(a ^ (b << 16 | b >> 48) ^ (c << 32 | c >> 32) ^ (d << 48 | d >> 16));
}

/* A slot's hash and id side by side: one cache line per probe step, not one per array (the
 * tables of 34,000 groups outgrow the L2 cache; a miss on each array was ~20% of
 * Scanner_scan's own samples at 1M events). */
typedef struct {
    uint64_t hash;
    int64_t id; /* -1: empty; the scanner's groups: where the group's record is in its arena */
} Slot;

typedef struct {
    Slot *slots;
    size_t cap; /* a power of two */
    size_t used;
} Table;

static int table_init(Table *t, size_t cap) {
    t->slots = PyMem_RawMalloc(cap * sizeof *t->slots);
    if (!t->slots) return 0;
    for (size_t i = 0; i < cap; i++) t->slots[i].id = -1;
    t->cap = cap;
    t->used = 0;
    return 1;
}

static void table_free(Table *t) {
    PyMem_RawFree(t->slots);
    t->slots = NULL;
}

static int table_grow(Table *t) {
    Table bigger;
    if (!table_init(&bigger, t->cap * 2)) {
        table_free(&bigger);
        return 0;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].id < 0) continue;
        size_t j = t->slots[i].hash & (bigger.cap - 1);
        while (bigger.slots[j].id >= 0) j = (j + 1) & (bigger.cap - 1);
        bigger.slots[j] = t->slots[i];
    }
    bigger.used = t->used;
    table_free(t);
    *t = bigger;
    return 1;
}

/* The bytes of entry `id` of a table's owner (its length in *len). */
typedef const unsigned char *(*KeyAt)(const void *owner, int64_t id, uint32_t *len);

/* The id stored under hash h whose bytes equal k[0:n], or -1 when absent; *slot is where it
 * would go. */
static int64_t probe(const Table *t, uint64_t h, const unsigned char *k, uint32_t n, KeyAt at,
                     const void *owner, size_t *slot) {
    size_t i = h & (t->cap - 1);
    for (;;) {
        int64_t id = t->slots[i].id;
        if (id < 0) {
            *slot = i;
            return -1;
        }
        if (t->slots[i].hash == h) {
            uint32_t len;
            const unsigned char *bytes = at(owner, id, &len);
            if (len == n && memcmp(bytes, k, n) == 0) return id;
        }
        i = (i + 1) & (t->cap - 1);
    }
}

/* Store id under hash h at a slot probe() gave; 0 on memory exhaustion. Tables grow past 3/4
 * full: at 1/2 the bench's 33,932 groups took 131,072 slots (2 MiB, twice the L2 cache of
 * this host's cores); at 3/4, 65,536 (a hit reads ~1.5 slots at that fill, ~2.5 at 3/4 full;
 * four slots a cache line). */
static int table_put(Table *t, size_t slot, uint64_t h, int64_t id) {
    t->slots[slot].hash = h;
    t->slots[slot].id = id;
    return ++t->used * 4 <= t->cap * 3 || table_grow(t);
}

static int grow(void **buf, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) return 1;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *p = PyMem_RawRealloc(*buf, n * item);
    if (!p) return 0;
    *buf = p;
    *cap = n;
    return 1;
}

/* ------------------------------------------------------------------------ the catalog */

typedef struct {
    size_t key_off; /* in the catalog's arena */
    uint32_t key_len;
    uint32_t template_len; /* the key's first template_len bytes are its template */
    int32_t template_id;
} Entry;

typedef struct {
    PyObject_HEAD
    PyThread_type_lock mutex; /* taken without the interpreter lock, around every use below */
    Table keys;               /* raw key -> global group id (an index into entries) */
    Table templates;          /* template -> template id (an index into template_of) */
    Entry *entries;
    size_t n_entries, entries_cap;
    int32_t *template_of; /* template id -> the first group whose key starts with it */
    size_t n_templates, template_of_cap;
    unsigned char *arena;
    size_t arena_len, arena_cap;
    /* families: templates equal but for their resultDescription value */
    Table families;          /* family key -> family id */
    int32_t *family_of;      /* template id -> family id (capacity template_of_cap) */
    size_t *family_off;      /* family id -> its key in farena */
    uint32_t *family_len;
    size_t n_families, families_cap;
    unsigned char *farena;
    size_t farena_len, farena_cap;
    size_t family_of_cap, family_len_cap;
    /* global group id -> 1 once Python has resolved it (Catalog.resolved): a scanner meeting
     * such a group leaves it out of its news (capacity resolved_cap >= entries_cap) */
    unsigned char *resolved;
    size_t resolved_cap;
} Catalog;

static const unsigned char *entry_key(const void *owner, int64_t id, uint32_t *len) {
    const Catalog *cat = owner;
    *len = cat->entries[id].key_len;
    return cat->arena + cat->entries[id].key_off;
}

static const unsigned char *entry_template(const void *owner, int64_t id, uint32_t *len) {
    const Catalog *cat = owner;
    const Entry *e = &cat->entries[cat->template_of[id]];
    *len = e->template_len;
    return cat->arena + e->key_off;
}

static const unsigned char *family_key(const void *owner, int64_t id, uint32_t *len) {
    const Catalog *cat = owner;
    *len = cat->family_len[id];
    return cat->farena + cat->family_off[id];
}

/* The family id of template k[0:template_len] (a key as build_key writes it): the template
 * without its resultDescription slot (length and bytes; the presence bits stay), found or
 * added now. -3 on memory exhaustion. Called with the catalog's mutex held. */
static int32_t family_intern(Catalog *cat, const unsigned char *k, uint32_t template_len) {
    uint32_t cut = 4, len;
    for (int s = 0; s < S_RESULT_DESC; s++) {
        memcpy(&len, k + cut, 4);
        cut += 4 + len;
    }
    memcpy(&len, k + cut, 4);
    uint32_t resume = cut + 4 + len;
    uint32_t n = template_len - (resume - cut);
    if (cat->n_families >= INT32_MAX
        || !grow((void **)&cat->farena, &cat->farena_cap, cat->farena_len + n, 1)
        || !grow((void **)&cat->family_off, &cat->families_cap, cat->n_families + 1,
                 sizeof(size_t)))
        return -3;
    if (cat->families_cap > cat->family_len_cap) {
        uint32_t *bigger = PyMem_RawRealloc(cat->family_len, cat->families_cap * sizeof(uint32_t));
        if (!bigger) return -3;
        cat->family_len = bigger;
        cat->family_len_cap = cat->families_cap;
    }
    /* the candidate key after the arena's last family: kept only if it is new */
    unsigned char *w = cat->farena + cat->farena_len;
    memcpy(w, k, cut);
    memcpy(w + cut, k + resume, template_len - resume);
    uint64_t h = hash_bytes(w, n);
    size_t slot = 0; /* set by probe() when it finds nothing */
    int32_t f = (int32_t)probe(&cat->families, h, w, n, family_key, cat, &slot);
    if (f >= 0) return f;
    f = (int32_t)cat->n_families;
    cat->family_off[f] = cat->farena_len;
    cat->family_len[f] = n;
    if (!table_put(&cat->families, slot, h, f)) return -3;
    cat->farena_len += n;
    cat->n_families++;
    return f;
}

/* The global id of raw key k[0:n] (hash h; its template is k[0:template_len]) and, in *tid and
 * *fid, its template's id and that template's family id, in *done whether Python has resolved
 * the group already (Catalog.resolved): found, or added now (not resolved). -3 on memory
 * exhaustion. Called without the interpreter lock. */
static int32_t catalog_intern(Catalog *cat, const unsigned char *k, uint32_t n,
                              uint32_t template_len, uint64_t h, int32_t *tid, int32_t *fid,
                              int *done) {
    int32_t gid;
    size_t slot = 0, tslot = 0; /* set by probe() when it finds nothing */
    PyThread_acquire_lock(cat->mutex, WAIT_LOCK);
    gid = (int32_t)probe(&cat->keys, h, k, n, entry_key, cat, &slot);
    if (gid >= 0) {
        *tid = cat->entries[gid].template_id;
        *fid = cat->family_of[*tid];
        *done = cat->resolved[gid];
        goto out;
    }
    gid = -3;
    if (cat->n_entries >= INT32_MAX
        || !grow((void **)&cat->entries, &cat->entries_cap, cat->n_entries + 1, sizeof(Entry))
        || !grow((void **)&cat->arena, &cat->arena_cap, cat->arena_len + n, 1)
        || !grow((void **)&cat->template_of, &cat->template_of_cap, cat->n_templates + 1,
                 sizeof(int32_t)))
        goto out;
    if (cat->entries_cap > cat->resolved_cap) {
        unsigned char *bigger = PyMem_RawRealloc(cat->resolved, cat->entries_cap);
        if (!bigger) goto out;
        memset(bigger + cat->resolved_cap, 0, cat->entries_cap - cat->resolved_cap);
        cat->resolved = bigger;
        cat->resolved_cap = cat->entries_cap;
    }
    if (cat->template_of_cap > cat->family_of_cap) {
        int32_t *bigger = PyMem_RawRealloc(cat->family_of, cat->template_of_cap * sizeof(int32_t));
        if (!bigger) goto out;
        cat->family_of = bigger;
        cat->family_of_cap = cat->template_of_cap;
    }
    int32_t id = (int32_t)cat->n_entries;
    Entry *e = &cat->entries[id];
    e->key_off = cat->arena_len;
    e->key_len = n;
    e->template_len = template_len;
    memcpy(cat->arena + cat->arena_len, k, n);
    uint64_t th = hash_bytes(k, template_len);
    int32_t t = (int32_t)probe(&cat->templates, th, k, template_len, entry_template, cat, &tslot);
    if (t < 0) {
        int32_t f = family_intern(cat, k, template_len);
        if (f < 0) goto out;
        t = (int32_t)cat->n_templates;
        cat->template_of[t] = id;
        cat->family_of[t] = f;
        if (!table_put(&cat->templates, tslot, th, t)) goto out;
        cat->n_templates++;
    }
    e->template_id = t;
    *fid = cat->family_of[t];
    if (!table_put(&cat->keys, slot, h, id)) goto out;
    cat->arena_len += n;
    cat->n_entries++;
    *tid = t;
    *done = 0;
    gid = id;
out:
    PyThread_release_lock(cat->mutex);
    return gid;
}

static void Catalog_dealloc(Catalog *cat) {
    if (cat->mutex) PyThread_free_lock(cat->mutex);
    table_free(&cat->keys);
    table_free(&cat->templates);
    table_free(&cat->families);
    PyMem_RawFree(cat->entries);
    PyMem_RawFree(cat->template_of);
    PyMem_RawFree(cat->arena);
    PyMem_RawFree(cat->family_of);
    PyMem_RawFree(cat->family_off);
    PyMem_RawFree(cat->family_len);
    PyMem_RawFree(cat->farena);
    PyMem_RawFree(cat->resolved);
    Py_TYPE(cat)->tp_free((PyObject *)cat);
}

static PyObject *Catalog_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":Catalog", kwlist)) return NULL;
    Catalog *cat = (Catalog *)type->tp_alloc(type, 0);
    if (!cat) return NULL;
    cat->mutex = PyThread_allocate_lock();
    if (!cat->mutex || !table_init(&cat->keys, 1024) || !table_init(&cat->templates, 256)
        || !table_init(&cat->families, 256)) {
        Py_DECREF(cat);
        return PyErr_NoMemory();
    }
    return (PyObject *)cat;
}

static PyObject *Catalog_groups(Catalog *cat, void *Py_UNUSED(closure)) {
    PyThread_acquire_lock(cat->mutex, WAIT_LOCK);
    size_t n = cat->n_entries;
    PyThread_release_lock(cat->mutex);
    return PyLong_FromSize_t(n);
}

static PyObject *Catalog_templates(Catalog *cat, void *Py_UNUSED(closure)) {
    PyThread_acquire_lock(cat->mutex, WAIT_LOCK);
    size_t n = cat->n_templates;
    PyThread_release_lock(cat->mutex);
    return PyLong_FromSize_t(n);
}

PyDoc_STRVAR(resolved_doc,
"resolved(news)\n\n"
"The groups of these news items (Scanner.scan's; each item's first value is the catalog's\n"
"group id) are resolved: from now on a scanner meeting one of them for the first time leaves\n"
"it out of its news. Call it only once everything a scanner's caller reads of those groups\n"
"(their keys, which of them are errors) is in place.");

static PyObject *Catalog_resolved(Catalog *cat, PyObject *news) {
    if (!PyList_Check(news)) {
        PyErr_SetString(PyExc_TypeError, "news must be a list (Scanner.scan's)");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(news), top = -1;
    for (Py_ssize_t i = 0; i < n; i++) { /* checked first: the marks are all or nothing */
        PyObject *item = PyList_GET_ITEM(news, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 1) {
            PyErr_SetString(PyExc_TypeError, "a news item is a tuple (Scanner.scan)");
            return NULL;
        }
        Py_ssize_t gid = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
        if (gid == -1 && PyErr_Occurred()) return NULL;
        if (gid < 0) {
            PyErr_SetString(PyExc_IndexError, "a news id out of the catalog's range");
            return NULL;
        }
        if (gid > top) top = gid;
    }
    PyThread_acquire_lock(cat->mutex, WAIT_LOCK);
    int fits = top < (Py_ssize_t)cat->n_entries;
    if (fits)
        for (Py_ssize_t i = 0; i < n; i++) /* ints read above: no error now */
            cat->resolved[PyLong_AsSsize_t(PyTuple_GET_ITEM(PyList_GET_ITEM(news, i), 0))] = 1;
    PyThread_release_lock(cat->mutex);
    if (!fits) {
        PyErr_SetString(PyExc_IndexError, "a news id out of the catalog's range");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef Catalog_methods[] = {
    {"resolved", (PyCFunction)Catalog_resolved, METH_O, resolved_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Catalog_getset[] = {
    {"group_count", (getter)Catalog_groups, NULL, "global group ids given so far", NULL},
    {"template_count", (getter)Catalog_templates, NULL, "template ids given so far", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject CatalogType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pullpath.core._archivescan.Catalog",
    .tp_doc = PyDoc_STR("Catalog()\n\nGroup and template ids shared by the scanners of one "
                        "scan (see the module)."),
    .tp_basicsize = sizeof(Catalog),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Catalog_new,
    .tp_dealloc = (destructor)Catalog_dealloc,
    .tp_getset = Catalog_getset,
    .tp_methods = Catalog_methods,
};

/* ------------------------------------------------------------------------ the scanner */

/* A group's record in the scanner's arena, its key's bytes right after it (padded to 8):
 * a line of a known group reads one place after its table slot, not a Group array and then
 * the arena (one dependent cache miss less per line: 34,000 groups outgrow the L2 cache). */
typedef struct {
    int64_t count;
    int64_t first; /* INT64_MAX: no time yet */
    int64_t last;
    int32_t global_id; /* in the catalog */
    uint32_t key_len;
} Group;

#define RECORD_BYTES(key_len) ((sizeof(Group) + (key_len) + 7) & ~(size_t)7)

/* a group created by the current block, for Python to resolve */
typedef struct {
    int32_t gid;       /* the scanner's own */
    int32_t global_id; /* the catalog's */
    int32_t template_id;
    Py_ssize_t line;
    Py_ssize_t start, end;
    int32_t family_id;
    const unsigned char *identity, *caller, *desc;
    uint32_t identity_len, caller_len, desc_len;
    int has_identity, has_caller, has_desc;
} News;

typedef struct {
    Py_ssize_t line, start, end;
} Fallback;

typedef struct {
    PyObject_HEAD
    Catalog *catalog; /* a strong reference */
    Table groups_index;
    size_t *group_at; /* the scanner's group id -> where its record is in the arena */
    size_t n_groups, group_at_cap;
    unsigned char *arena;
    size_t arena_len, arena_cap;
    size_t max_groups;
    size_t max_line;
    unsigned char ask[256]; /* first octets whose callers' ports Python judges (set_host) */
    /* callers' hosts: address -> 1 (drop the port), 2 (keep the caller as logged) */
    Table hosts; /* a slot's id holds the verdict, its hash the address */
    int busy;
    /* per block */
    News *news;
    size_t n_news, news_cap;
    Fallback *fallbacks;
    size_t n_fallbacks, fallbacks_cap;
    int32_t *line_groups;
    size_t line_groups_cap;
    unsigned char *scratch;
    /* duplicates across inputs (set_duplicates) */
    PyObject *seen_obj; /* bytes: the earlier inputs' fingerprints, sorted */
    const uint64_t *seen;
    Py_ssize_t n_seen;
    int collect;
    uint64_t *fps; /* per line of the last scan, when collecting */
    size_t fps_cap, n_fps;
    unsigned char *fpbuf;
} Scanner;

#define SCRATCH_BYTES (4 + N_SLOTS * (4 + MAX_VALUE))

static uint32_t build_key(const Fields *f, unsigned char *out, uint32_t *template_len) {
    uint32_t n = 0;
    memcpy(out, &f->mask, 4);
    n = 4;
    for (int s = 0; s < N_SLOTS; s++) {
        if (s == TEMPLATE_SLOTS) *template_len = n;
        uint32_t len = f->len[s];
        memcpy(out + n, &len, 4);
        n += 4;
        if (len) {
            memcpy(out + n, f->val[s], len);
            n += len;
        }
    }
    return n;
}

static inline Group *group_record(const Scanner *sc, int64_t at) {
    return (Group *)(void *)(sc->arena + at);
}

static const unsigned char *group_key(const void *owner, int64_t id, uint32_t *len) {
    const Group *g = group_record(owner, id);
    *len = g->key_len;
    return (const unsigned char *)(g + 1);
}

static int host_verdict(Scanner *sc, uint32_t addr) {
    uint64_t h = mix((uint64_t)addr + 1);
    size_t i = h & (sc->hosts.cap - 1);
    for (;;) {
        int32_t v = sc->hosts.slots[i].id;
        if (v < 0) return 0;
        if (sc->hosts.slots[i].hash == (uint64_t)addr) return v;
        i = (i + 1) & (sc->hosts.cap - 1);
    }
}

/* The group of one line (>= 0: the catalog's id), LINE_FALLBACK or LINE_OVERFLOW; -3 on
 * memory exhaustion. */
static int32_t scan_line(Scanner *sc, const unsigned char *p, const unsigned char *end,
                         Py_ssize_t line, Py_ssize_t start, int64_t *pending_host,
                         uint64_t *fp) {
    Fields f;
    int64_t when = 0;
    *pending_host = -1;
    *fp = 0;
    if (!parse_line(p, end, &f)) return LINE_FALLBACK;
    int timed = (f.mask & B_TIME) != 0;
    if (timed && !parse_time(f.time, f.time_len, &when)) return LINE_FALLBACK;
    const unsigned char *caller = f.val[S_CALLER];
    uint32_t caller_len = f.len[S_CALLER];
    uint32_t addr, host_len;
    if (caller_len && ipv4_with_port(caller, caller_len, &addr, &host_len)) {
        int verdict = sc->ask[addr >> 24] ? host_verdict(sc, addr) : 1;
        if (verdict == 0) {
            *pending_host = addr;
            return LINE_PENDING;
        }
        if (verdict == 1) {
            f.len[S_CALLER] = host_len;
            f.mask |= B_CALLER_PORT;
        }
    }
    if (sc->seen_obj != NULL || sc->collect) {
        if (!line_fingerprint(&f, timed, when, sc->fpbuf, fp)) return LINE_FALLBACK;
        if (*fp && in_sorted(sc->seen, sc->n_seen, *fp)) {
            *fp = 0;
            return LINE_FALLBACK; /* perhaps a duplicate: Python judges it */
        }
    }
    uint32_t template_len = 0;
    uint32_t n = build_key(&f, sc->scratch, &template_len);
    uint64_t h = hash_bytes(sc->scratch, n);
    size_t slot = 0; /* set by probe() when it finds nothing */
    int64_t at = probe(&sc->groups_index, h, sc->scratch, n, group_key, sc, &slot);
    if (at < 0) {
        if (sc->n_groups >= sc->max_groups) return LINE_OVERFLOW;
        if (!grow((void **)&sc->group_at, &sc->group_at_cap, sc->n_groups + 1, sizeof(size_t))
            || !grow((void **)&sc->arena, &sc->arena_cap, sc->arena_len + RECORD_BYTES(n), 1)
            || !grow((void **)&sc->news, &sc->news_cap, sc->n_news + 1, sizeof(News)))
            return -3;
        int32_t template_id, family_id;
        int done;
        int32_t global_id = catalog_intern(sc->catalog, sc->scratch, n, template_len, h,
                                           &template_id, &family_id, &done);
        if (global_id < 0) return -3;
        int32_t gid = (int32_t)sc->n_groups;
        at = (int64_t)sc->arena_len;
        if (!table_put(&sc->groups_index, slot, h, at)) return -3;
        sc->group_at[sc->n_groups++] = sc->arena_len;
        Group *g = group_record(sc, at);
        g->key_len = n;
        g->global_id = global_id;
        g->count = 0;
        g->first = INT64_MAX;
        g->last = INT64_MIN;
        memcpy(g + 1, sc->scratch, n);
        sc->arena_len += RECORD_BYTES(n);
        if (!done) { /* else resolved already (another scanner's news): no news */
            News *nw = &sc->news[sc->n_news++];
            nw->gid = gid;
            nw->global_id = global_id;
            nw->template_id = template_id;
            nw->line = line;
            nw->start = start;
            nw->end = start + (end - p);
            nw->identity = f.val[S_IDENTITY];
            nw->identity_len = f.len[S_IDENTITY];
            nw->has_identity = (f.mask & B_IDENTITY) != 0;
            nw->caller = caller;
            nw->caller_len = caller_len;
            nw->has_caller = (f.mask & B_CALLER) != 0;
            nw->family_id = family_id;
            nw->desc = f.val[S_RESULT_DESC];
            nw->desc_len = f.len[S_RESULT_DESC];
            nw->has_desc = (f.mask & B_RESULT_DESC) != 0;
        }
    }
    Group *g = group_record(sc, at);
    g->count++;
    if (timed) {
        if (when < g->first) g->first = when;
        if (when > g->last) g->last = when;
    }
    return g->global_id;
}

/* ------------------------------------------------------------------------ Python type */

static void Scanner_dealloc(Scanner *sc) {
    table_free(&sc->groups_index);
    table_free(&sc->hosts);
    PyMem_RawFree(sc->group_at);
    PyMem_RawFree(sc->arena);
    PyMem_RawFree(sc->news);
    PyMem_RawFree(sc->fallbacks);
    PyMem_RawFree(sc->line_groups);
    PyMem_RawFree(sc->scratch);
    PyMem_RawFree(sc->fps);
    PyMem_RawFree(sc->fpbuf);
    Py_XDECREF(sc->seen_obj);
    Py_XDECREF(sc->catalog);
    Py_TYPE(sc)->tp_free((PyObject *)sc);
}

static int Scanner_init(Scanner *sc, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"max_groups", "max_line", "ask_octets", "catalog", NULL};
    Py_ssize_t max_groups, max_line;
    Py_buffer ask;
    PyObject *catalog = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nny*|O", kwlist, &max_groups, &max_line, &ask,
                                     &catalog))
        return -1;
    if (catalog != Py_None && !Py_IS_TYPE(catalog, &CatalogType)) {
        PyBuffer_Release(&ask);
        PyErr_SetString(PyExc_TypeError, "catalog must be a Catalog or None");
        return -1;
    }
    if (ask.len != 256) {
        PyBuffer_Release(&ask);
        PyErr_SetString(PyExc_ValueError, "ask_octets must be 256 bytes");
        return -1;
    }
    memcpy(sc->ask, ask.buf, 256);
    PyBuffer_Release(&ask);
    if (max_groups < 0 || max_groups > INT32_MAX - 1 || max_line < 0) {
        PyErr_SetString(PyExc_ValueError, "max_groups or max_line out of range");
        return -1;
    }
    if (sc->scratch != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner is already initialised");
        return -1;
    }
    PyObject *own = catalog == Py_None ? PyObject_CallNoArgs((PyObject *)&CatalogType)
                                       : Py_NewRef(catalog);
    if (!own) return -1;
    Py_XSETREF(sc->catalog, (Catalog *)own);
    sc->max_groups = (size_t)max_groups;
    sc->max_line = (size_t)max_line;
    sc->scratch = PyMem_RawMalloc(SCRATCH_BYTES);
    sc->fpbuf = PyMem_RawMalloc(FINGERPRINT_BYTES);
    if (!sc->scratch || !sc->fpbuf || !table_init(&sc->groups_index, 1024)
        || !table_init(&sc->hosts, 256)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *str_or_none(const unsigned char *s, uint32_t n, int present) {
    if (!present) Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8((const char *)s, n, "strict");
}

PyDoc_STRVAR(scan_doc,
"scan(buffer) -> (consumed, line_groups, news, fallbacks, host)\n\n"
"Count the lines of `buffer` that end with a newline (those longer than max_line fall\n"
"back); consumed: the bytes they take. The scan stops early, before a line whose caller\n"
"is 'a.b.c.d:port' with an address not yet judged: host is that address (else -1); call\n"
"set_host() and scan the rest.\n"
"line_groups: bytes, one int32 per line: its group (the catalog's id), -1 (fallback) or -2\n"
"(overflow).\n"
"news: (gid, template_id, line, start, end, identity, caller, family_id, description) per\n"
"group new to this scanner and not resolved in the catalog (Catalog.resolved; perhaps met by\n"
"another scanner, whose caller has not resolved it yet): the catalog's group and template ids\n"
"and the group's first line here; identity/caller/description None when the record has no\n"
"such key. family_id: the catalog's id of the template's family (the templates equal but\n"
"for their resultDescription value).\n"
"fallbacks: (line, start, end) per line for Python to read.");

static PyObject *Scanner_scan(Scanner *sc, PyObject *arg) {
    Py_buffer view;
    if (sc->scratch == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner is not initialised");
        return NULL;
    }
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (sc->busy) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "Scanner used by two threads at once");
        return NULL;
    }
    sc->busy = 1;
    const unsigned char *base = view.buf;
    const unsigned char *p = base, *end = base + view.len;
    Py_ssize_t lines = 0;
    int failed = 0;
    int64_t pending = -1;
    sc->n_news = 0;
    sc->n_fallbacks = 0;
    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) break;
        const unsigned char *stop = nl;
        int64_t host = -1;
        uint64_t fp = 0;
        if (!grow((void **)&sc->line_groups, &sc->line_groups_cap, (size_t)lines + 1,
                  sizeof(int32_t))
            || (sc->collect
                && !grow((void **)&sc->fps, &sc->fps_cap, (size_t)lines + 1, sizeof(uint64_t)))) {
            failed = 1;
            break;
        }
        int32_t gid = (size_t)(stop - p) > sc->max_line
                          ? LINE_FALLBACK : scan_line(sc, p, stop, lines, p - base, &host, &fp);
        if (gid == -3) {
            failed = 1;
            break;
        }
        if (gid == LINE_PENDING) {
            pending = host;
            break;
        }
        if (gid == LINE_FALLBACK) {
            if (!grow((void **)&sc->fallbacks, &sc->fallbacks_cap, sc->n_fallbacks + 1,
                      sizeof(Fallback))) {
                failed = 1;
                break;
            }
            Fallback *fb = &sc->fallbacks[sc->n_fallbacks++];
            fb->line = lines;
            fb->start = p - base;
            fb->end = stop - base;
        }
        if (sc->collect) sc->fps[lines] = gid == LINE_FALLBACK ? 0 : fp;
        sc->line_groups[lines++] = gid;
        p = nl + 1;
    }
    Py_END_ALLOW_THREADS
    sc->busy = 0;
    sc->n_fps = sc->collect ? (size_t)lines : 0;
    PyObject *result = NULL, *groups = NULL, *news = NULL, *fallbacks = NULL;
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    groups = PyBytes_FromStringAndSize((const char *)sc->line_groups,
                                       lines * (Py_ssize_t)sizeof(int32_t));
    news = PyList_New((Py_ssize_t)sc->n_news);
    fallbacks = PyList_New((Py_ssize_t)sc->n_fallbacks);
    if (!groups || !news || !fallbacks) goto done;
    for (size_t i = 0; i < sc->n_news; i++) {
        News *nw = &sc->news[i];
        PyObject *identity = str_or_none(nw->identity, nw->identity_len, nw->has_identity);
        PyObject *caller = identity ? str_or_none(nw->caller, nw->caller_len, nw->has_caller)
                                    : NULL;
        PyObject *desc = caller ? str_or_none(nw->desc, nw->desc_len, nw->has_desc) : NULL;
        if (!desc) {
            Py_XDECREF(identity);
            Py_XDECREF(caller);
            goto done;
        }
        PyObject *item = Py_BuildValue("(iinnnNNiN)", nw->global_id, nw->template_id, nw->line,
                                       nw->start, nw->end, identity, caller, nw->family_id,
                                       desc);
        if (!item) goto done;
        PyList_SET_ITEM(news, (Py_ssize_t)i, item);
    }
    for (size_t i = 0; i < sc->n_fallbacks; i++) {
        Fallback *fb = &sc->fallbacks[i];
        PyObject *item = Py_BuildValue("(nnn)", fb->line, fb->start, fb->end);
        if (!item) goto done;
        PyList_SET_ITEM(fallbacks, (Py_ssize_t)i, item);
    }
    result = Py_BuildValue("(nOOOL)", (Py_ssize_t)(p - base), groups, news, fallbacks,
                           (long long)pending);
done:
    Py_XDECREF(groups);
    Py_XDECREF(news);
    Py_XDECREF(fallbacks);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(set_host_doc,
"set_host(address, drop_port)\n\n"
"How callers 'a.b.c.d:port' of this IPv4 address (an int) are keyed from now on: without\n"
"the port (drop_port true: the port never changes their flow) or as logged.");

static PyObject *Scanner_set_host(Scanner *sc, PyObject *args) {
    unsigned long long addr;
    int drop;
    if (!PyArg_ParseTuple(args, "Kp", &addr, &drop)) return NULL;
    if (addr > 0xffffffffULL) {
        PyErr_SetString(PyExc_ValueError, "not an IPv4 address");
        return NULL;
    }
    if (sc->hosts.slots == NULL || sc->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner not initialised or busy");
        return NULL;
    }
    uint64_t h = mix(addr + 1);
    size_t i = h & (sc->hosts.cap - 1);
    for (;;) {
        int32_t v = sc->hosts.slots[i].id;
        if (v < 0) break;
        if (sc->hosts.slots[i].hash == addr) {
            sc->hosts.slots[i].id = drop ? 1 : 2;
            Py_RETURN_NONE;
        }
        i = (i + 1) & (sc->hosts.cap - 1);
    }
    sc->hosts.slots[i].hash = addr;
    sc->hosts.slots[i].id = drop ? 1 : 2;
    if (++sc->hosts.used * 2 > sc->hosts.cap) {
        /* rehash by address (table_grow places by the stored value, which is the address) */
        Table bigger;
        if (!table_init(&bigger, sc->hosts.cap * 2)) {
            table_free(&bigger);
            return PyErr_NoMemory();
        }
        for (size_t j = 0; j < sc->hosts.cap; j++) {
            if (sc->hosts.slots[j].id < 0) continue;
            size_t k = mix(sc->hosts.slots[j].hash + 1) & (bigger.cap - 1);
            while (bigger.slots[k].id >= 0) k = (k + 1) & (bigger.cap - 1);
            bigger.slots[k] = sc->hosts.slots[j];
        }
        bigger.used = sc->hosts.used;
        table_free(&sc->hosts);
        sc->hosts = bigger;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(groups_doc,
"groups() -> (ids, counts, firsts, lasts): four bytes objects of int64, one value per group\n"
"this scanner holds: its catalog id, its count, first and last time; times are microseconds\n"
"since the epoch (UTC), INT64_MAX / INT64_MIN when no line of the group had one.");

static PyObject *Scanner_groups(Scanner *sc, PyObject *Py_UNUSED(ignored)) {
    Py_ssize_t n = (Py_ssize_t)sc->n_groups;
    PyObject *ids = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *counts = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *firsts = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *lasts = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *out = NULL;
    if (ids && counts && firsts && lasts) {
        int64_t *g = (int64_t *)(void *)PyBytes_AS_STRING(ids);
        int64_t *c = (int64_t *)(void *)PyBytes_AS_STRING(counts);
        int64_t *f = (int64_t *)(void *)PyBytes_AS_STRING(firsts);
        int64_t *l = (int64_t *)(void *)PyBytes_AS_STRING(lasts);
        for (Py_ssize_t i = 0; i < n; i++) {
            const Group *rec = group_record(sc, (int64_t)sc->group_at[i]);
            g[i] = rec->global_id;
            c[i] = rec->count;
            f[i] = rec->first;
            l[i] = rec->last;
        }
        out = PyTuple_Pack(4, ids, counts, firsts, lasts);
    }
    Py_XDECREF(ids);
    Py_XDECREF(counts);
    Py_XDECREF(firsts);
    Py_XDECREF(lasts);
    return out;
}

PyDoc_STRVAR(set_duplicates_doc,
"set_duplicates(seen, collect)\n\n"
"For the lines scanned from now on: seen (bytes of native uint64, sorted, or None) holds the\n"
"fingerprints of the earlier inputs' events (core.records.fingerprint): a line whose\n"
"fingerprint is among them falls back. collect: keep each line's fingerprint for\n"
"fingerprints(). With neither, no fingerprint is made.");

static PyObject *Scanner_set_duplicates(Scanner *sc, PyObject *args) {
    PyObject *seen;
    int collect;
    if (!PyArg_ParseTuple(args, "Op", &seen, &collect)) return NULL;
    if (seen != Py_None && !PyBytes_Check(seen)) {
        PyErr_SetString(PyExc_TypeError, "seen must be bytes or None");
        return NULL;
    }
    if (sc->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner used by two threads at once");
        return NULL;
    }
    Py_ssize_t n = seen == Py_None ? 0 : PyBytes_GET_SIZE(seen);
    if (n % (Py_ssize_t)sizeof(uint64_t)) {
        PyErr_SetString(PyExc_ValueError, "seen must hold whole uint64 values");
        return NULL;
    }
    Py_XSETREF(sc->seen_obj, seen == Py_None ? NULL : Py_NewRef(seen));
    sc->seen = sc->seen_obj ? (const uint64_t *)PyBytes_AS_STRING(sc->seen_obj) : NULL;
    sc->n_seen = n / (Py_ssize_t)sizeof(uint64_t);
    sc->collect = collect;
    sc->n_fps = 0;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(fingerprints_doc,
"fingerprints() -> bytes\n\n"
"When collecting (set_duplicates): per line of the last scan, its fingerprint as a native\n"
"uint64 (0: no correlation ID, or a line that fell back).");

static PyObject *Scanner_fingerprints(Scanner *sc, PyObject *Py_UNUSED(ignored)) {
    return PyBytes_FromStringAndSize((const char *)sc->fps,
                                     (Py_ssize_t)(sc->n_fps * sizeof(uint64_t)));
}

static PyObject *Scanner_len(Scanner *sc, void *Py_UNUSED(closure)) {
    return PyLong_FromSize_t(sc->n_groups);
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_O, scan_doc},
    {"set_host", (PyCFunction)Scanner_set_host, METH_VARARGS, set_host_doc},
    {"groups", (PyCFunction)Scanner_groups, METH_NOARGS, groups_doc},
    {"set_duplicates", (PyCFunction)Scanner_set_duplicates, METH_VARARGS, set_duplicates_doc},
    {"fingerprints", (PyCFunction)Scanner_fingerprints, METH_NOARGS, fingerprints_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"group_count", (getter)Scanner_len, NULL, "groups held", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pullpath.core._archivescan.Scanner",
    .tp_doc = PyDoc_STR("Counts diagnostic-archive JSON lines into groups (see the module)."),
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

static PyObject *module_mapped_keys(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (const char *const *k = MAPPED_NORMALISED; *k; k++) {
        PyObject *s = PyUnicode_FromString(*k);
        if (!s || PyList_Append(out, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(s);
    }
    return out;
}

/* y-m-d of a day counted from 1970-01-01 (proleptic Gregorian; days_from_civil inverted). */
static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* the microseconds of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59.999999Z */
#define MIN_MICROS (-62135596800LL * 1000000)
#define MAX_MICROS (253402300799LL * 1000000 + 999999)

PyDoc_STRVAR(utc_datetimes_doc,
"utc_datetimes(micros) -> list[datetime | None]\n\n"
"Native int64 microseconds since the epoch (a buffer, as Scanner.groups gives them) as aware\n"
"UTC datetimes; None for a value outside datetime's range (the groups' no-time sentinels).");

static PyObject *module_utc_datetimes(PyObject *Py_UNUSED(m), PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % (Py_ssize_t)sizeof(int64_t)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "utc_datetimes needs whole int64 values");
        return NULL;
    }
    Py_ssize_t n = view.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        int64_t us;
        memcpy(&us, (const char *)view.buf + i * (Py_ssize_t)sizeof(int64_t), sizeof us);
        PyObject *item;
        if (us < MIN_MICROS || us > MAX_MICROS) {
            item = Py_NewRef(Py_None);
        } else {
            int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
            int micro = (int)(us - secs * 1000000);
            int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
            int sod = (int)(secs - days * 86400);
            int y, mo, d;
            civil_from_days(days, &y, &mo, &d);
            item = PyDateTimeAPI->DateTime_FromDateAndTime(
                y, mo, d, sod / 3600, sod / 60 % 60, sod % 60, micro, PyDateTime_TimeZone_UTC,
                PyDateTimeAPI->DateTimeType);
        }
        if (!item) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, item);
    }
    PyBuffer_Release(&view);
    return out;
}

PyDoc_STRVAR(resolve_known_doc,
"resolve_known(news, keys, templates, callers, identities, group_key, fresh) -> list\n\n"
"The part of resolving a scan's news that needs no Python code: for each news item whose\n"
"group is unresolved (keys[gid] is None), whose template is a group (templates[tid] of type\n"
"group_key) and whose caller and identity are in the memos `callers` and `identities`, set\n"
"keys[gid] to the template with that caller key and identity (items 6 and 7 replaced) and\n"
"append it to `fresh`. Items whose group is a group_key already are done. Returns the others,\n"
"in order, for Python to resolve. keys and templates must hold every id of `news`.");

static PyObject *module_resolve_known(PyObject *Py_UNUSED(m), PyObject *args) {
    PyObject *news, *keys, *templates, *callers, *identities, *fresh;
    PyTypeObject *group_key;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!O!O!:resolve_known", &PyList_Type, &news,
                          &PyList_Type, &keys, &PyList_Type, &templates, &PyDict_Type, &callers,
                          &PyDict_Type, &identities, &PyType_Type, &group_key, &PyList_Type,
                          &fresh))
        return NULL;
    if (!PyType_IsSubtype(group_key, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "group_key must be a tuple type");
        return NULL;
    }
    PyObject *rest = PyList_New(0);
    if (!rest) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(news);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(news, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 9) {
            PyErr_SetString(PyExc_TypeError, "a news item is a 9-tuple (Scanner.scan)");
            goto fail;
        }
        Py_ssize_t gid = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
        Py_ssize_t tid = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
        if ((gid == -1 || tid == -1) && PyErr_Occurred()) goto fail;
        if (gid < 0 || gid >= PyList_GET_SIZE(keys) || tid < 0
            || tid >= PyList_GET_SIZE(templates)) {
            PyErr_SetString(PyExc_IndexError, "a news id beyond keys or templates");
            goto fail;
        }
        PyObject *key = PyList_GET_ITEM(keys, gid);
        if (Py_TYPE(key) == group_key) continue; /* resolved by another scanner's news */
        PyObject *template = PyList_GET_ITEM(templates, tid);
        PyObject *caller = NULL, *identity = NULL;
        if (key == Py_None && Py_TYPE(template) == group_key && PyTuple_GET_SIZE(template) == 10) {
            caller = PyDict_GetItemWithError(callers, PyTuple_GET_ITEM(item, 6));
            if (!caller && PyErr_Occurred()) goto fail;
            if (caller) {
                identity = PyDict_GetItemWithError(identities, PyTuple_GET_ITEM(item, 5));
                if (!identity && PyErr_Occurred()) goto fail;
            }
        }
        if (!identity) { /* not all known: Python's part */
            if (PyList_Append(rest, item) < 0) goto fail;
            continue;
        }
        PyObject *made = group_key->tp_alloc(group_key, 10);
        if (!made) goto fail;
        for (Py_ssize_t k = 0; k < 10; k++) {
            PyObject *v = k == 6 ? caller : k == 7 ? identity : PyTuple_GET_ITEM(template, k);
            PyTuple_SET_ITEM(made, k, Py_NewRef(v));
        }
        if (PyList_Append(fresh, made) < 0) {
            Py_DECREF(made);
            goto fail;
        }
        PyList_SET_ITEM(keys, gid, made); /* steals the reference; None's is released: */
        Py_DECREF(key);
    }
    return rest;
fail:
    Py_DECREF(rest);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"mapped_keys", module_mapped_keys, METH_NOARGS,
     "The normalised keys this scanner treats as read by parse_record."},
    {"utc_datetimes", module_utc_datetimes, METH_O, utc_datetimes_doc},
    {"resolve_known", module_resolve_known, METH_VARARGS, resolve_known_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "pullpath.core._archivescan",
    "Count diagnostic-archive JSON lines into groups (pure; see the C source's header).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__archivescan(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&CatalogType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&CatalogType);
    if (PyModule_AddObject(m, "Catalog", (PyObject *)&CatalogType) < 0) {
        Py_DECREF(&CatalogType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "MAX_VALUE", MAX_VALUE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
