/* refloop: the reference job loop in C on libmariadb, loaded into the benchmark process with
 * ctypes so that pytest-benchmark times it exactly like the Python contestants (connections
 * opened before the clock, only the loop timed; ctypes releases the GIL for the call).
 *
 * It does what q4m_fast's job loop does, minus Python: one round trip per job,
 *     SELECT queue_wait('<table>', <timeout>); SELECT * FROM `<table>` LIMIT 1
 * (the wait consumes the previous row and takes the next; the owner-mode SELECT returns it),
 * reads the row, and at the end of a run `SELECT queue_end()` (one more round trip per
 * connection, like Job.work()'s settle when it stops).
 *
 *   void *ref_open(host, port, user, database, table, timeout, threads)   NULL on error
 *   long  ref_run(handle, jobs)        exactly `jobs` rows over all threads; -1 on error
 *   const char *ref_error(handle)
 *   void  ref_close(handle)
 *
 * Build: gcc -O2 -shared -fPIC -pthread refloop.c $(pkg-config --cflags --libs libmariadb)
 */
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int threads;
    MYSQL **conns;
    char query[512];
    size_t query_len;
    atomic_long reserved;
    long jobs;
    atomic_int failed;
    char error[512];
    pthread_mutex_t error_lock;
} ref_t;

static void set_error(ref_t *h, MYSQL *m, const char *what) {
    pthread_mutex_lock(&h->error_lock);
    if (!atomic_load(&h->failed))
        snprintf(h->error, sizeof h->error, "%s: %s (%u)", what, m ? mysql_error(m) : "",
                 m ? mysql_errno(m) : 0);
    atomic_store(&h->failed, 1);
    pthread_mutex_unlock(&h->error_lock);
}

void ref_close(ref_t *h);

ref_t *ref_open(const char *host, unsigned port, const char *user, const char *database,
                const char *table, int timeout, int threads) {
    ref_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    pthread_mutex_init(&h->error_lock, NULL);
    h->threads = threads;
    h->conns = calloc(threads, sizeof *h->conns);
    h->query_len = snprintf(h->query, sizeof h->query,
                            "SELECT queue_wait('%s', %d); SELECT * FROM `%s` LIMIT 1", table,
                            timeout, table);
    for (int i = 0; i < threads; i++) {
        MYSQL *m = h->conns[i] = mysql_init(NULL);
        if (!m || !mysql_real_connect(m, host, user, "", database, port, NULL,
                                      CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS)) {
            set_error(h, m, "connect");
            return h;   /* the caller reads ref_error, then ref_close */
        }
    }
    return h;
}

const char *ref_error(ref_t *h) { return atomic_load(&h->failed) ? h->error : NULL; }

static int one_job(ref_t *h, MYSQL *m) {
    for (;;) {
        if (mysql_real_query(m, h->query, h->query_len)) { set_error(h, m, h->query); return -1; }
        MYSQL_RES *r = mysql_store_result(m);
        if (!r) { set_error(h, m, "queue_wait result"); return -1; }
        MYSQL_ROW row = mysql_fetch_row(r);
        long v = (row && row[0]) ? atol(row[0]) : -1;
        mysql_free_result(r);
        if (mysql_next_result(m) != 0) { set_error(h, m, "next result"); return -1; }
        r = mysql_store_result(m);
        if (!r) { set_error(h, m, "SELECT result"); return -1; }
        row = mysql_fetch_row(r);
        int got = 0;
        if (row) {
            unsigned long *len = mysql_fetch_lengths(r);
            unsigned n = mysql_num_fields(r);
            volatile unsigned long sink = 0;
            for (unsigned i = 0; i < n; i++) sink += len[i] + (row[i] ? row[i][0] : 0);
            got = 1;
        }
        mysql_free_result(r);
        if (v == 1 && got) return 0;
        if (v == -1) { set_error(h, m, "queue_wait returned NULL"); return -1; }
        /* timed out (0): wait again */
    }
}

typedef struct { ref_t *h; MYSQL *m; } arg_t;

static void *worker(void *p) {
    arg_t *a = p;
    ref_t *h = a->h;
    int owns = 0;
    while (!atomic_load(&h->failed) && atomic_fetch_add(&h->reserved, 1) < h->jobs) {
        if (one_job(h, a->m)) return NULL;
        owns = 1;
    }
    if (owns) {
        if (mysql_real_query(a->m, "SELECT queue_end()", 18)) set_error(h, a->m, "queue_end");
        else {
            MYSQL_RES *r = mysql_store_result(a->m);
            if (r) mysql_free_result(r);
        }
    }
    return NULL;
}

long ref_run(ref_t *h, long jobs) {
    if (atomic_load(&h->failed)) return -1;
    atomic_store(&h->reserved, 0);
    h->jobs = jobs;
    pthread_t *tids = calloc(h->threads, sizeof *tids);
    arg_t *args = calloc(h->threads, sizeof *args);
    for (int i = 0; i < h->threads; i++) {
        args[i] = (arg_t){h, h->conns[i]};
        if (i == h->threads - 1) worker(&args[i]);      /* the calling thread works too */
        else pthread_create(&tids[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < h->threads - 1; i++) pthread_join(tids[i], NULL);
    free(tids);
    free(args);
    return atomic_load(&h->failed) ? -1 : jobs;
}

void ref_close(ref_t *h) {
    if (!h) return;
    for (int i = 0; i < h->threads; i++)
        if (h->conns[i]) mysql_close(h->conns[i]);
    free(h->conns);
    pthread_mutex_destroy(&h->error_lock);
    free(h);
}
