/*
 * pullpath.formatters._flowjson: the "flows" array of the pullpath.audit/v1 JSON document, in C.
 *
 * Pure: objects in, bytes out; no I/O. The Python side (formatters/simple.py, audit_doc.py)
 * owns the document: its reference rendering is to_json_bytes(audit_document(report)), orjson
 * with OPT_INDENT_2. This module writes exactly the bytes that rendering gives for the value
 * of "flows" (the list audit_doc.flow_docs makes), between two given byte strings:
 *
 *   flows_json(flows, tails_of, text_of, prefix, suffix) -> bytes | None
 *
 *   - flows: a sequence of domain.verdicts.Flow. Read from its slots: registry, registry_id,
 *     table, operation, repository, tag, caller_ip, identity, result, count, first_seen,
 *     last_seen (written here, in flow_docs' order and form), and source, verdict, consumer,
 *     expectation (the flow's keys "source" to "agrees" depend on these four only).
 *   - tails_of(firsts) -> bytes: for a list of flows (the first flow of each distinct
 *     (source, verdict, consumer, expectation), by identity, in order of first appearance),
 *     orjson's rendering (OPT_INDENT_2) of [[tail, tail, ...]], each tail the object of a
 *     flow's keys "source" to "agrees": one call for all. Two levels down, each tail's keys
 *     sit 6 spaces deep, as a flow's keys do in the document, so the body of each tail (the
 *     lines between its "    {" and "    }") is copied as is. The lines are orjson's layout:
 *     a JSON string never holds a raw line break (orjson escapes it), and the body's lines
 *     are all indented 6 spaces or more, so "\n    }" ends a body and nothing else. The four
 *     objects of each set are kept referenced until the call returns: no identity can be
 *     reused while the table lives.
 *   - text_of(str) -> str: what flow_docs shows for a non-ASCII value of registry, operation,
 *     repository, tag, caller_ip, identity or result (safe_text: lone surrogates replaced).
 *   - prefix, suffix: bytes written before and after the array (the rest of the document,
 *     rendered by Python), so that the result is built in one buffer.
 *
 * The array is "[]" for no flows, else "[\n    {\n      \"registry\": ...\n    }\n  ]": the
 * layout orjson gives a list at depth 1 of the top-level object. Strings are escaped as
 * orjson escapes them: \" \\ \b \t \n \f \r, every other byte below 0x20 as \u00XX (lower-case
 * hex); DEL, "/" and all of non-ASCII (as UTF-8) are written raw.
 *
 * What it takes, else it returns None and Python renders the whole document the reference
 * way (never a different output):
 *   - flows all of one type that keeps the sixteen attributes in slots (slot descriptors, as
 *     a slotted dataclass has), each slot set;
 *   - the seven texts above: exact str (ASCII as is, other through text_of, whose result must
 *     be an exact str that encodes as UTF-8); registry_id and table: exact str encoding as
 *     UTF-8 (flow_docs shows them unchanged: a lone surrogate is orjson's error, which the
 *     reference path answers with its json.dumps fallback);
 *   - count: an exact int within int64;
 *   - first_seen, last_seen: None or an exact datetime.datetime whose tzinfo is datetime.UTC,
 *     written as formatters.common.iso_many writes them: YYYY-MM-DDTHH:MM:SS[.ffffff]Z
 *     (microseconds only when not zero).
 * An exception raised by tails_of or text_of (orjson refusing a value) propagates.
 *
 * Time goes mostly to memory: the flows' texts are scattered objects, so the writing loop
 * prefetches those of a flow a few places ahead.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* the output's size: a flow's object is never shorter than FLOW_MIN bytes (with every text
   empty and every value null: about 860), and takes about HEAD_GUESS before its tail (the
   tails' sizes are known once rendered). Only guesses: the buffer grows when they fall short. */
#define FLOW_MIN 768
#define HEAD_GUESS 640

/* how many flows ahead the writing loop prefetches a flow's objects (twice as far: the flow) */
#ifndef AHEAD
#define AHEAD 8
#endif

/* ---------------------------------------------------------------- output buffer (a bytes) */

typedef struct {
    PyObject *bytes; /* the result being written; resized as it grows, then to its length */
    char *p;         /* PyBytes_AS_STRING(bytes) */
    Py_ssize_t len, cap;
} Out;

/* room for n more bytes */
static int out_reserve(Out *o, Py_ssize_t n) {
    if (n <= o->cap - o->len) return 0;
    Py_ssize_t cap = o->cap;
    while (n > cap - o->len) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    if (_PyBytes_Resize(&o->bytes, cap) < 0) return -1; /* frees it on failure */
    o->p = PyBytes_AS_STRING(o->bytes);
    o->cap = cap;
    return 0;
}

/* callers reserve first */
static inline void put(Out *o, const char *s, Py_ssize_t n) {
    memcpy(o->p + o->len, s, (size_t)n);
    o->len += n;
}

#define PUT_LIT(o, lit) put((o), (lit), (Py_ssize_t)(sizeof(lit) - 1))

/* ---------------------------------------------------------------- strings, as orjson */

/* per byte: 0 written as is; else its escape ('u' for \u00XX) */
static char escape_of[256];

static void init_escapes(void) {
    for (int c = 0; c < 0x20; c++) escape_of[c] = 'u';
    escape_of['\b'] = 'b';
    escape_of['\t'] = 't';
    escape_of['\n'] = 'n';
    escape_of['\f'] = 'f';
    escape_of['\r'] = 'r';
    escape_of['"'] = '"';
    escape_of['\\'] = '\\';
}

/* a JSON string of n bytes of UTF-8 (bytes >= 0x80 raw) */
static int put_string(Out *o, const unsigned char *s, Py_ssize_t n) {
    if (n > (PY_SSIZE_T_MAX - 2) / 6) {
        PyErr_NoMemory();
        return -1;
    }
    if (out_reserve(o, n * 6 + 2) < 0) return -1;
    char *w = o->p + o->len;
    *w++ = '"';
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = i;
        while (j < n && !escape_of[s[j]]) j++;
        memcpy(w, s + i, (size_t)(j - i));
        w += j - i;
        if (j == n) break;
        unsigned char c = s[j];
        char e = escape_of[c];
        *w++ = '\\';
        if (e == 'u') {
            static const char hex[] = "0123456789abcdef";
            memcpy(w, "u00", 3);
            w[3] = hex[c >> 4];
            w[4] = hex[c & 15];
            w += 5;
        } else {
            *w++ = e;
        }
        i = j + 1;
    }
    *w++ = '"';
    o->len = w - o->p;
    return 0;
}

/* 1 written, 0 not taken (return None), -1 error. An exact str: ASCII as is; otherwise, when
   text_of is given, text_of(value) (an exact str) as UTF-8, else the value as UTF-8. */
static int put_text(Out *o, PyObject *value, PyObject *text_of) {
    if (!PyUnicode_CheckExact(value)) return 0;
    if (PyUnicode_IS_ASCII(value))
        return put_string(o, PyUnicode_1BYTE_DATA(value), PyUnicode_GET_LENGTH(value)) < 0 ? -1
                                                                                           : 1;
    PyObject *text;
    if (text_of) {
        Py_INCREF(value); /* borrowed from the flow's slot, and text_of runs Python code */
        text = PyObject_CallOneArg(text_of, value);
        Py_DECREF(value);
        if (!text) return -1;
        if (!PyUnicode_CheckExact(text)) {
            Py_DECREF(text);
            return 0;
        }
    } else {
        text = Py_NewRef(value);
    }
    /* a new bytes, not PyUnicode_AsUTF8AndSize: that would keep a UTF-8 copy in the flow's
       string for as long as it lives */
    PyObject *utf8 = PyUnicode_AsUTF8String(text);
    Py_DECREF(text);
    if (!utf8) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear(); /* a lone surrogate: orjson refuses it, the reference path decides */
        return 0;
    }
    int r = put_string(o, (const unsigned char *)PyBytes_AS_STRING(utf8),
                       PyBytes_GET_SIZE(utf8));
    Py_DECREF(utf8);
    return r < 0 ? -1 : 1;
}

/* ---------------------------------------------------------------- numbers and times */

/* 1 written, 0 not taken, -1 error: an exact int within int64 */
static int put_count(Out *o, PyObject *value) {
    if (!PyLong_CheckExact(value)) return 0;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow) return 0;
    if (v == -1 && PyErr_Occurred()) return -1;
    if (out_reserve(o, 21) < 0) return -1;
    char *w = o->p + o->len;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        *w++ = '-';
        u = 0 - u;
    }
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n) *w++ = digits[--n];
    o->len = w - o->p;
    return 1;
}

static inline char *put2(char *w, int v) {
    w[0] = (char)('0' + v / 10);
    w[1] = (char)('0' + v % 10);
    return w + 2;
}

/* 1 written, 0 not taken, -1 error: None, or an exact datetime in datetime.UTC */
static int put_time(Out *o, PyObject *value) {
    if (out_reserve(o, 32) < 0) return -1;
    if (value == Py_None) {
        PUT_LIT(o, "null");
        return 1;
    }
    if (!PyDateTime_CheckExact(value) ||
        PyDateTime_DATE_GET_TZINFO(value) != PyDateTime_TimeZone_UTC)
        return 0;
    int year = PyDateTime_GET_YEAR(value), micro = PyDateTime_DATE_GET_MICROSECOND(value);
    char *w = o->p + o->len;
    *w++ = '"';
    w = put2(w, year / 100);
    w = put2(w, year % 100);
    *w++ = '-';
    w = put2(w, PyDateTime_GET_MONTH(value));
    *w++ = '-';
    w = put2(w, PyDateTime_GET_DAY(value));
    *w++ = 'T';
    w = put2(w, PyDateTime_DATE_GET_HOUR(value));
    *w++ = ':';
    w = put2(w, PyDateTime_DATE_GET_MINUTE(value));
    *w++ = ':';
    w = put2(w, PyDateTime_DATE_GET_SECOND(value));
    if (micro) {
        *w++ = '.';
        w = put2(w, micro / 10000);
        w = put2(w, micro / 100 % 100);
        w = put2(w, micro % 100);
    }
    *w++ = 'Z';
    *w++ = '"';
    o->len = w - o->p;
    return 1;
}

/* ---------------------------------------------------------------- reading flows */

enum {
    A_REGISTRY, A_REGISTRY_ID, A_TABLE, A_OPERATION, A_REPOSITORY, A_TAG, A_CALLER_IP,
    A_IDENTITY, A_RESULT, A_COUNT, A_FIRST_SEEN, A_LAST_SEEN, A_SOURCE, A_VERDICT, A_CONSUMER,
    A_EXPECTATION, N_ATTRS
};

static const char *const attr_names[N_ATTRS] = {
    "registry", "registry_id", "table", "operation", "repository", "tag", "caller_ip",
    "identity", "result", "count", "first_seen", "last_seen", "source", "verdict", "consumer",
    "expectation",
};

static PyObject *attr_strs[N_ATTRS]; /* interned, for the module's lifetime */

/* Where the flows' type keeps the sixteen attributes: the offsets of their slots, each a slot
   descriptor (T_OBJECT_EX: getattr gives the slot's object, AttributeError when unset; a data
   descriptor, so it wins over any instance dict). */
typedef struct {
    PyTypeObject *type; /* owned; NULL: the type has no such slots */
    Py_ssize_t offset[N_ATTRS];
} Layout;

static int layout_of(PyTypeObject *type, Layout *l) {
    l->type = NULL;
    for (int a = 0; a < N_ATTRS; a++) {
        PyObject *d = PyObject_GetAttr((PyObject *)type, attr_strs[a]);
        if (!d) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return -1;
            PyErr_Clear();
            return 0;
        }
        int slot = Py_IS_TYPE(d, &PyMemberDescr_Type) &&
                   ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX &&
                   PyType_IsSubtype(type, PyDescr_TYPE(d));
        if (slot) l->offset[a] = ((PyMemberDescrObject *)d)->d_member->offset;
        Py_DECREF(d);
        if (!slot) return 0;
    }
    l->type = (PyTypeObject *)Py_NewRef((PyObject *)type);
    return 0;
}

/* a flow's attribute, borrowed: read at the moment of use, never held across a call into
   Python (the flow is kept alive by the caller's tuple) */
static inline PyObject *slot(PyObject *flow, const Layout *l, int a) {
    return *(PyObject **)((char *)flow + l->offset[a]);
}

/* whether flow has the layout's type and all its slots set */
static int readable(PyObject *flow, const Layout *l) {
    if (Py_TYPE(flow) != l->type) return 0;
    for (int a = 0; a < N_ATTRS; a++)
        if (!slot(flow, l, a)) return 0;
    return 1;
}

/* ---------------------------------------------------------------- sets by identity */

typedef struct {
    PyObject *key[4]; /* source, verdict, consumer, expectation (owned); key[0] NULL: empty */
    Py_ssize_t set;   /* its number, in order of first appearance */
} Entry;

typedef struct {
    Entry *slots;
    size_t cap, used; /* cap a power of two, at most half used */
} Sets;

static inline size_t hash_key(PyObject *const k[4]) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 4; i++) {
        h ^= (uint64_t)(uintptr_t)k[i] >> 4;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return (size_t)h;
}

static Entry *sets_find(Sets *t, PyObject *const k[4]) {
    size_t i = hash_key(k) & (t->cap - 1);
    for (;;) {
        Entry *e = &t->slots[i];
        if (!e->key[0] || (e->key[0] == k[0] && e->key[1] == k[1] && e->key[2] == k[2] &&
                           e->key[3] == k[3]))
            return e;
        i = (i + 1) & (t->cap - 1);
    }
}

static int sets_grow(Sets *t) {
    Entry *old = t->slots;
    size_t old_cap = t->cap;
    t->slots = PyMem_Calloc(old_cap * 2, sizeof(Entry));
    if (!t->slots) {
        t->slots = old;
        PyErr_NoMemory();
        return -1;
    }
    t->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key[0]) *sets_find(t, old[i].key) = old[i];
    PyMem_Free(old);
    return 0;
}

static void sets_free(Sets *t) {
    if (!t->slots) return;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key[0])
            for (int k = 0; k < 4; k++) Py_DECREF(t->slots[i].key[k]);
    PyMem_Free(t->slots);
}

/* ---------------------------------------------------------------- tails */

typedef struct {
    Py_ssize_t start, len; /* a tail's body in tails_of's rendering */
} Span;

static int unexpected_tails(void) {
    PyErr_SetString(PyExc_ValueError, "tails_of did not give the expected JSON layout");
    return -1;
}

/* tails_of's rendering "[\n  [\n    {\n<body>\n    },\n    {\n<body>\n    }\n  ]\n]" of
   count tails -> each body's span */
static int split_tails(const char *s, Py_ssize_t n, Py_ssize_t count, Span *spans) {
    const char *p = s, *end = s + n;
#define EXPECT(lit)                                                                          \
    do {                                                                                     \
        if (end - p < (Py_ssize_t)(sizeof(lit) - 1) || memcmp(p, lit, sizeof(lit) - 1) != 0) \
            return unexpected_tails();                                                       \
        p += sizeof(lit) - 1;                                                                \
    } while (0)
    EXPECT("[\n  [\n");
    for (Py_ssize_t k = 0; k < count; k++) {
        if (k) EXPECT(",\n");
        EXPECT("    {\n");
        const char *body = p;
        for (;;) { /* the line "    }" (every body line is indented 6 spaces or more) */
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) return unexpected_tails();
            p = nl + 1;
            if (end - nl >= 6 && memcmp(nl, "\n    }", 6) == 0) {
                spans[k].start = body - s;
                spans[k].len = nl - body;
                p = nl + 6;
                break;
            }
        }
    }
    EXPECT("\n  ]\n]");
#undef EXPECT
    return p == end ? 0 : unexpected_tails();
}

/* ---------------------------------------------------------------- writing */

/* the keys before the tail, in flow_docs' order: the attribute written and whether flow_docs
   passes it through safe_text when it is not ASCII */
static const struct {
    const char *line; /* the key as written, with its indentation and the separator before */
    int attr;
    int safe;
} head_keys[] = {
    {"      \"registry\": ", A_REGISTRY, 1},
    {",\n      \"registry_id\": ", A_REGISTRY_ID, 0},
    {",\n      \"table\": ", A_TABLE, 0},
    {",\n      \"operation\": ", A_OPERATION, 1},
    {",\n      \"repository\": ", A_REPOSITORY, 1},
    {",\n      \"tag\": ", A_TAG, 1},
    {",\n      \"caller_ip\": ", A_CALLER_IP, 1},
    {",\n      \"identity\": ", A_IDENTITY, 1},
    {",\n      \"result\": ", A_RESULT, 1},
    {",\n      \"count\": ", A_COUNT, 0},
    {",\n      \"first_seen\": ", A_FIRST_SEEN, 0},
    {",\n      \"last_seen\": ", A_LAST_SEEN, 0},
};
#define N_HEAD_KEYS ((int)(sizeof head_keys / sizeof head_keys[0]))

static Py_ssize_t head_key_len[N_HEAD_KEYS];

/* 1 written, 0 not taken, -1 error: one flow's object, from its "{" line to its "}" */
static int put_flow(Out *o, PyObject *flow, const Layout *l, const char *tail,
                    Py_ssize_t tail_len, PyObject *text_of) {
    if (out_reserve(o, 8) < 0) return -1;
    PUT_LIT(o, "    {\n");
    for (int k = 0; k < N_HEAD_KEYS; k++) {
        if (out_reserve(o, head_key_len[k]) < 0) return -1;
        put(o, head_keys[k].line, head_key_len[k]);
        int a = head_keys[k].attr, r;
        PyObject *v = slot(flow, l, a);
        if (!v) return 0; /* deleted by Python code text_of ran (see readable) */
        if (a == A_COUNT) {
            r = put_count(o, v);
        } else if (a == A_FIRST_SEEN || a == A_LAST_SEEN) {
            r = put_time(o, v);
        } else {
            r = put_text(o, v, head_keys[k].safe ? text_of : NULL);
        }
        if (r <= 0) return r;
    }
    if (out_reserve(o, tail_len + 16) < 0) return -1;
    PUT_LIT(o, ",\n");
    put(o, tail, tail_len);
    PUT_LIT(o, "\n    }");
    return 1;
}

/* hint a flow's objects into the cache (a macro: GCC judges a function that only prefetches
   free of effects and drops its calls) */
#define PREFETCH_FLOW(flow, l)                                                              \
    do {                                                                                    \
        PyObject *flow_ = (flow);                                                           \
        if (Py_TYPE(flow_) == (l)->type)                                                    \
            for (int a_ = 0; a_ < A_SOURCE; a_++) PREFETCH(slot(flow_, (l), a_));           \
    } while (0)

PyDoc_STRVAR(flows_json_doc,
"flows_json(flows, tails_of, text_of, prefix, suffix) -> bytes | None\n\n"
"prefix + the JSON array of flows as orjson writes audit_doc.flow_docs(flows) at depth 1 of\n"
"the audit document (OPT_INDENT_2) + suffix; None when a value is not one this module\n"
"renders (see the C source's header). tails_of(firsts) gives orjson's rendering of\n"
"[[tail, ...]], the keys 'source' to 'agrees' of the first flow of each distinct source,\n"
"verdict, consumer and expectation; text_of(str) what a non-ASCII text shows.");

static PyObject *flows_json(PyObject *Py_UNUSED(m), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "flows_json takes 5 arguments");
        return NULL;
    }
    PyObject *tails_of = args[1], *text_of = args[2], *prefix = args[3], *suffix = args[4];
    if (!PyCallable_Check(tails_of) || !PyCallable_Check(text_of)) {
        PyErr_SetString(PyExc_TypeError, "tails_of and text_of must be callable");
        return NULL;
    }
    if (!PyBytes_Check(prefix) || !PyBytes_Check(suffix)) {
        PyErr_SetString(PyExc_TypeError, "prefix and suffix must be bytes");
        return NULL;
    }
    /* a copy of the sequence: the callbacks run Python code (other threads included) */
    PyObject *items = PySequence_Tuple(args[0]);
    if (!items) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    PyObject *result = NULL, *firsts = NULL, *rendering = NULL;
    Py_ssize_t *set_of = NULL; /* per flow: its set */
    Span *spans = NULL;        /* per set: its tail */
    Sets sets = {NULL, 1024, 0};
    Layout layout = {NULL, {0}};
    Out o = {NULL, NULL, 0, 0};
    Py_ssize_t plen = PyBytes_GET_SIZE(prefix), slen = PyBytes_GET_SIZE(suffix);

    if (n && layout_of(Py_TYPE(PyTuple_GET_ITEM(items, 0)), &layout) < 0) goto done;
    if (n && !layout.type) goto not_taken;
    /* pass 1: each flow's set, and the first flow of each set */
    sets.slots = PyMem_Calloc(sets.cap, sizeof(Entry));
    set_of = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    firsts = PyList_New(0);
    if (!sets.slots || !set_of) {
        PyErr_NoMemory();
        goto done;
    }
    if (!firsts) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *flow = PyTuple_GET_ITEM(items, i);
        if (!readable(flow, &layout)) goto not_taken;
        PyObject *key[4] = {slot(flow, &layout, A_SOURCE), slot(flow, &layout, A_VERDICT),
                            slot(flow, &layout, A_CONSUMER),
                            slot(flow, &layout, A_EXPECTATION)};
        Entry *e = sets_find(&sets, key);
        if (!e->key[0]) {
            if (PyList_Append(firsts, flow) < 0) goto done;
            for (int k = 0; k < 4; k++) e->key[k] = Py_NewRef(key[k]);
            e->set = (Py_ssize_t)sets.used;
            if (++sets.used * 2 > sets.cap && sets_grow(&sets) < 0) goto done;
            e = sets_find(&sets, key);
        }
        set_of[i] = e->set;
    }
    /* the output, at the least size it can have */
    o.cap = plen + slen + n * FLOW_MIN + 64;
    if (!(o.bytes = PyBytes_FromStringAndSize(NULL, o.cap))) goto done;
    o.p = PyBytes_AS_STRING(o.bytes);
    /* the tails: one rendering, split at its layout */
    Py_ssize_t count = PyList_GET_SIZE(firsts), tails_len = 0;
    if (count) {
        rendering = PyObject_CallOneArg(tails_of, firsts);
        if (!rendering) goto done;
        if (!PyBytes_CheckExact(rendering)) {
            PyErr_SetString(PyExc_TypeError, "tails_of must return bytes");
            goto done;
        }
        spans = PyMem_Malloc((size_t)count * sizeof(Span));
        if (!spans) {
            PyErr_NoMemory();
            goto done;
        }
        if (split_tails(PyBytes_AS_STRING(rendering), PyBytes_GET_SIZE(rendering), count,
                        spans) < 0)
            goto done;
        for (Py_ssize_t i = 0; i < n; i++) tails_len += spans[set_of[i]].len;
    }
    /* pass 2: write. The size is known now but for the texts before each tail. */
    Py_ssize_t need = plen + slen + tails_len + n * HEAD_GUESS + 64;
    if (need > o.cap) {
        if (_PyBytes_Resize(&o.bytes, need) < 0) goto done;
        o.p = PyBytes_AS_STRING(o.bytes);
        o.cap = need;
    }
    put(&o, PyBytes_AS_STRING(prefix), plen);
    if (n == 0) {
        PUT_LIT(&o, "[]");
    } else {
        const char *tails = PyBytes_AS_STRING(rendering);
        PUT_LIT(&o, "[\n");
        for (Py_ssize_t i = 0; i < AHEAD && i < n; i++)
            PREFETCH_FLOW(PyTuple_GET_ITEM(items, i), &layout);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *flow = PyTuple_GET_ITEM(items, i);
            /* text_of ran Python code: the flow may have been changed (object.__setattr__) */
            if (!readable(flow, &layout)) goto not_taken;
            if (i + 2 * AHEAD < n) {
                const char *ahead = (const char *)PyTuple_GET_ITEM(items, i + 2 * AHEAD);
                PREFETCH(ahead);
                PREFETCH(ahead + 64);
                PREFETCH(ahead + 128);
            }
            if (i + AHEAD < n) PREFETCH_FLOW(PyTuple_GET_ITEM(items, i + AHEAD), &layout);
            if (i) {
                if (out_reserve(&o, 2) < 0) goto done;
                PUT_LIT(&o, ",\n");
            }
            const Span *sp = &spans[set_of[i]];
            int r = put_flow(&o, flow, &layout, tails + sp->start, sp->len, text_of);
            if (r < 0) goto done;
            if (r == 0) goto not_taken;
        }
        if (out_reserve(&o, 4) < 0) goto done;
        PUT_LIT(&o, "\n  ]");
    }
    if (out_reserve(&o, slen) < 0) goto done;
    put(&o, PyBytes_AS_STRING(suffix), slen);
    if (_PyBytes_Resize(&o.bytes, o.len) < 0) goto done;
    result = o.bytes;
    o.bytes = NULL;
    goto done;
not_taken:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(o.bytes);
    Py_XDECREF(rendering);
    Py_XDECREF(firsts);
    Py_XDECREF((PyObject *)layout.type);
    sets_free(&sets);
    PyMem_Free(spans);
    PyMem_Free(set_of);
    Py_DECREF(items);
    return result;
}

/* ---------------------------------------------------------------- tails, as orjson */

/* the attributes a tail reads (audit_doc.flow_tail_doc, source_doc, consumer_doc) */
enum {
    T_SOURCE, T_VERDICT, T_CONSUMER, T_EXPECTATION, T_VALUE, T_KIND, T_IP, T_SUBNET_ID,
    T_VNET_ID, T_RESOURCE_ID, T_SERVICE_TAG, T_REGION, T_PREFIX, T_TAG_COUNT, T_NOTE, T_PATH,
    T_CONFIDENCE, T_DENIAL, T_REASONS, T_MISSING, T_ID, T_CANDIDATES, T_BY, T_RULE, T_AGREES,
    N_TAIL_ATTRS
};

static const char *const tail_attr_names[N_TAIL_ATTRS] = {
    "source", "verdict", "consumer", "expectation", "_value_", "kind", "ip", "subnet_id",
    "vnet_id", "resource_id", "service_tag", "region", "prefix", "tag_count", "note", "path",
    "confidence", "denial", "reasons", "missing", "id", "candidates", "by", "rule", "agrees",
};

static PyObject *tail_attr_strs[N_TAIL_ATTRS]; /* interned, for the module's lifetime */

/* 1 written, 0 not taken, -1 error: an exact str of ASCII only (other text: the Python
   rendering, which applies safe_text where flow_tail_doc does); empty as null when
   empty_null */
static int put_ascii(Out *o, PyObject *value, int empty_null) {
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    if (n == 0 && empty_null) {
        if (out_reserve(o, 4) < 0) return -1;
        PUT_LIT(o, "null");
        return 1;
    }
    return put_string(o, PyUnicode_1BYTE_DATA(value), n) < 0 ? -1 : 1;
}

/* a new reference to obj.<attr>, NULL with an error set */
static inline PyObject *tail_attr(PyObject *obj, int a) {
    return PyObject_GetAttr(obj, tail_attr_strs[a]);
}

/* 1 written, 0 not taken, -1 error: a list of ASCII strs (a tuple or list of exact str) at the
   given indent of its items ("<indent>" before each; closing at indent - 2) */
static int put_str_list(Out *o, PyObject *seq, const char *indent) {
    if (!PyTuple_CheckExact(seq) && !PyList_CheckExact(seq)) return 0;
    PyObject *fast = PySequence_Fast(seq, "");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    Py_ssize_t ind = (Py_ssize_t)strlen(indent);
    int r = 1;
    if (n == 0) {
        r = out_reserve(o, 2) < 0 ? -1 : 1;
        if (r == 1) PUT_LIT(o, "[]");
    } else {
        r = out_reserve(o, 1) < 0 ? -1 : 1;
        if (r == 1) PUT_LIT(o, "[");
        for (Py_ssize_t i = 0; r == 1 && i < n; i++) {
            if (out_reserve(o, ind + 2) < 0) {
                r = -1;
                break;
            }
            if (i) PUT_LIT(o, ",");
            PUT_LIT(o, "\n");
            put(o, indent, ind);
            r = put_ascii(o, PySequence_Fast_GET_ITEM(fast, i), 0);
        }
        if (r == 1) {
            if (out_reserve(o, ind) < 0) {
                r = -1;
            } else {
                PUT_LIT(o, "\n");
                put(o, indent, ind - 2);
                PUT_LIT(o, "]");
            }
        }
    }
    Py_DECREF(fast);
    return r;
}

/* how put_member writes a value */
enum { AS_TEXT, AS_TEXT_OR_NULL, AS_ENUM, AS_LIST, AS_COUNT, AS_BOOL_OR_NULL };

/* 1 written, 0 not taken, -1 error: "<line>" (the key and what precedes it), then obj.<attr>
   as `how` says: its text, its text or null when empty, its _value_'s text (an enum member),
   a list of texts whose items sit at `indent`, an exact int, or None/True/False */
static int put_member(Out *o, const char *line, PyObject *obj, int a, int how,
                      const char *indent) {
    PyObject *v = tail_attr(obj, a);
    if (!v) return -1;
    if (how == AS_ENUM) {
        PyObject *inner = tail_attr(v, T_VALUE);
        Py_DECREF(v);
        if (!inner) return -1;
        v = inner;
    }
    Py_ssize_t n = (Py_ssize_t)strlen(line);
    int r = out_reserve(o, n + 5) < 0 ? -1 : 1;
    if (r == 1) {
        put(o, line, n);
        switch (how) {
        case AS_LIST:
            r = put_str_list(o, v, indent);
            break;
        case AS_COUNT:
            r = PyLong_CheckExact(v) ? put_count(o, v) : 0;
            break;
        case AS_BOOL_OR_NULL:
            if (v == Py_None) PUT_LIT(o, "null");
            else if (v == Py_True) PUT_LIT(o, "true");
            else if (v == Py_False) PUT_LIT(o, "false");
            else r = 0;
            break;
        default:
            r = put_ascii(o, v, how == AS_TEXT_OR_NULL);
        }
    }
    Py_DECREF(v);
    return r;
}

/* the objects a tail reads from: a flow's source, verdict, consumer and expectation */
enum { O_SOURCE, O_VERDICT, O_CONSUMER, O_EXPECTATION, N_TAIL_OBJECTS };

typedef struct {
    const char *line; /* what precedes the value: the key, after the previous value's end */
    int obj, attr, how;
    const char *indent; /* AS_LIST: where its items sit */
} TailMember;

/* flow_tail_doc's keys from "source" to "missing", as orjson lays them out two lists deep */
static const TailMember TAIL_MEMBERS[] = {
    {"    {\n      \"source\": {\n        \"kind\": ", O_SOURCE, T_KIND, AS_ENUM, NULL},
    {",\n        \"ip\": ", O_SOURCE, T_IP, AS_TEXT, NULL},
    {",\n        \"subnet_id\": ", O_SOURCE, T_SUBNET_ID, AS_TEXT_OR_NULL, NULL},
    {",\n        \"vnet_id\": ", O_SOURCE, T_VNET_ID, AS_TEXT_OR_NULL, NULL},
    {",\n        \"resource_id\": ", O_SOURCE, T_RESOURCE_ID, AS_TEXT_OR_NULL, NULL},
    {",\n        \"service_tag\": ", O_SOURCE, T_SERVICE_TAG, AS_TEXT_OR_NULL, NULL},
    {",\n        \"region\": ", O_SOURCE, T_REGION, AS_TEXT_OR_NULL, NULL},
    {",\n        \"prefix\": ", O_SOURCE, T_PREFIX, AS_TEXT_OR_NULL, NULL},
    {",\n        \"tag_count\": ", O_SOURCE, T_TAG_COUNT, AS_COUNT, NULL},
    {",\n        \"note\": ", O_SOURCE, T_NOTE, AS_TEXT_OR_NULL, NULL},
    {"\n      },\n      \"path\": ", O_VERDICT, T_PATH, AS_ENUM, NULL},
    {",\n      \"confidence\": ", O_VERDICT, T_CONFIDENCE, AS_ENUM, NULL},
    {",\n      \"denial\": ", O_VERDICT, T_DENIAL, AS_TEXT_OR_NULL, NULL},
    {",\n      \"consumer\": {\n        \"kind\": ", O_CONSUMER, T_KIND, AS_ENUM, NULL},
    {",\n        \"id\": ", O_CONSUMER, T_ID, AS_TEXT_OR_NULL, NULL},
    {",\n        \"candidates\": ", O_CONSUMER, T_CANDIDATES, AS_LIST, "          "},
    {",\n        \"by\": ", O_CONSUMER, T_BY, AS_TEXT_OR_NULL, NULL},
    {"\n      },\n      \"reasons\": ", O_VERDICT, T_REASONS, AS_LIST, "        "},
    {",\n      \"missing\": ", O_VERDICT, T_MISSING, AS_LIST, "        "},
};

/* the expectation's keys (flow_tail_doc: all null without one) */
static const TailMember EXPECTED_MEMBERS[] = {
    {",\n      \"expected_path\": ", O_EXPECTATION, T_PATH, AS_ENUM, NULL},
    {",\n      \"expected_rule\": ", O_EXPECTATION, T_RULE, AS_TEXT_OR_NULL, NULL},
    {",\n      \"agrees\": ", O_EXPECTATION, T_AGREES, AS_BOOL_OR_NULL, NULL},
};

static int put_members(Out *o, const TailMember *m, size_t n, PyObject *const *objs) {
    for (size_t i = 0; i < n; i++) {
        int r = put_member(o, m[i].line, objs[m[i].obj], m[i].attr, m[i].how, m[i].indent);
        if (r != 1) return r;
    }
    return 1;
}

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

/* one tail object at depth 2 (its keys 6 spaces deep) */
static int put_tail(Out *o, PyObject *flow) {
    static const int from_flow[N_TAIL_OBJECTS] = {T_SOURCE, T_VERDICT, T_CONSUMER,
                                                  T_EXPECTATION};
    PyObject *objs[N_TAIL_OBJECTS] = {NULL};
    int r = -1;
    for (int i = 0; i < N_TAIL_OBJECTS; i++)
        if (!(objs[i] = tail_attr(flow, from_flow[i]))) goto done;
    r = put_members(o, TAIL_MEMBERS, N_OF(TAIL_MEMBERS), objs);
    if (r != 1) goto done;
    if (objs[O_EXPECTATION] == Py_None) {
        r = out_reserve(o, 96) < 0 ? -1 : 1;
        if (r == 1)
            PUT_LIT(o, ",\n      \"expected_path\": null,\n      \"expected_rule\": null,\n"
                       "      \"agrees\": null");
    } else {
        r = put_members(o, EXPECTED_MEMBERS, N_OF(EXPECTED_MEMBERS), objs);
    }
    if (r == 1) {
        r = out_reserve(o, 8) < 0 ? -1 : 1;
        if (r == 1) PUT_LIT(o, "\n    }");
    }
done:
    for (int i = 0; i < N_TAIL_OBJECTS; i++) Py_XDECREF(objs[i]);
    return r;
}

PyDoc_STRVAR(tails_json_doc,
"tails_json(flows) -> bytes | None\n\n"
"orjson's rendering (OPT_INDENT_2) of [[flow_tail_doc(f.source, f.verdict, f.consumer,\n"
"f.expectation) for f in flows]] (formatters.audit_doc), or None when a value is not what\n"
"this writes exactly so: every text an exact str of ASCII (flow_tail_doc's safe_text and\n"
"orjson's refusals are Python's to apply), the lists tuples or lists of them, tag_count an\n"
"exact int within int64, agrees None or a bool.");

static PyObject *tails_json(PyObject *Py_UNUSED(m), PyObject *arg) {
    PyObject *fast = PySequence_Fast(arg, "tails_json takes a sequence of flows");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    Out o;
    o.cap = 64 + n * 1024;
    o.len = 0;
    o.bytes = PyBytes_FromStringAndSize(NULL, o.cap);
    if (!o.bytes) {
        Py_DECREF(fast);
        return NULL;
    }
    o.p = PyBytes_AS_STRING(o.bytes);
    int r = 1;
    if (n == 0) {
        PUT_LIT(&o, "[\n  []\n]");
    } else {
        PUT_LIT(&o, "[\n  [\n");
        for (Py_ssize_t i = 0; r == 1 && i < n; i++) {
            if (i) {
                if (out_reserve(&o, 2) < 0) {
                    r = -1;
                    break;
                }
                PUT_LIT(&o, ",\n");
            }
            r = put_tail(&o, PySequence_Fast_GET_ITEM(fast, i));
        }
        if (r == 1) {
            if (out_reserve(&o, 8) < 0) r = -1;
            else PUT_LIT(&o, "\n  ]\n]");
        }
    }
    Py_DECREF(fast);
    if (r != 1) {
        Py_XDECREF(o.bytes);
        if (r < 0) return NULL;
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&o.bytes, o.len) < 0) return NULL;
    return o.bytes;
}

static PyMethodDef module_methods[] = {
    {"flows_json", (PyCFunction)(void (*)(void))flows_json, METH_FASTCALL, flows_json_doc},
    {"tails_json", tails_json, METH_O, tails_json_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "pullpath.formatters._flowjson",
    "The audit document's flows array as orjson writes it (pure; see the C source's header).",
    -1, module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__flowjson(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    init_escapes();
    for (int k = 0; k < N_HEAD_KEYS; k++)
        head_key_len[k] = (Py_ssize_t)strlen(head_keys[k].line);
    for (int a = 0; a < N_ATTRS; a++)
        if (!attr_strs[a] && !(attr_strs[a] = PyUnicode_InternFromString(attr_names[a])))
            return NULL;
    for (int a = 0; a < N_TAIL_ATTRS; a++)
        if (!tail_attr_strs[a]
            && !(tail_attr_strs[a] = PyUnicode_InternFromString(tail_attr_names[a])))
            return NULL;
    return PyModule_Create(&module);
}
