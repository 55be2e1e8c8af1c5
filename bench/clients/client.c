/*
 * client.c - C reference client for the deno_libvirt comparison benchmark.
 *
 * Build:  gcc -O2 -pthread -o OUT bench/clients/client.c -lvirt
 * Usage:  OUT --uri URI --op OP --iterations N [--warmup W]
 *             [--concurrency T] [--names-file FILE]
 *
 * --concurrency T > 1 runs T threads, each with its own connection (as a
 * connection pool does), sharing the N iterations; the clock runs from the
 * moment every thread is warmed up and released until the last one is done.
 *
 * OP is one of: open_close, lookup_info, list_all, lookup_info_many.
 * Prints exactly one JSON line on success (exit 0). On a libvirt failure the
 * libvirt error message goes to stderr and the exit code is 1. Usage errors
 * exit 2. See bench/clients/README.md for the full contract.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

enum op { OP_OPEN_CLOSE, OP_LOOKUP_INFO, OP_LIST_ALL, OP_LOOKUP_INFO_MANY };

static const char *uri;
static const char *op_name;
static enum op op;
static virConnectPtr conn;
static char **names;
static size_t n_names;
static int last_domain_count = -1;

/* One thread's state: its connection and its place in the names list. */
struct worker {
    virConnectPtr conn;
    uint64_t name_cursor; /* runs on across warmup and timed iterations */
    long long warmup, iterations;
    pthread_t thread;
};
static pthread_barrier_t ready, go;

static void
silent_error(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static void
usage(const char *msg)
{
    fprintf(stderr,
            "client: %s\n"
            "usage: client --uri URI --op open_close|lookup_info|list_all|"
            "lookup_info_many --iterations N [--warmup W] [--concurrency 1] "
            "[--names-file FILE]\n",
            msg);
    exit(2);
}

static void
die_libvirt(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    fprintf(stderr, "%s: %s\n", what, msg ? msg : "unknown libvirt error");
    if (conn)
        virConnectClose(conn);
    exit(1);
}

static long long
parse_count(const char *flag, const char *s, long long min)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || !end || *end || end == s || v < min) {
        char buf[256];
        snprintf(buf, sizeof(buf), "invalid value for %s: '%s'", flag, s);
        usage(buf);
    }
    return v;
}

static void
load_names(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;

    if (!f) {
        fprintf(stderr, "cannot open names file '%s': %s\n", path,
                strerror(errno));
        exit(2);
    }
    while ((len = getline(&line, &cap, f)) != -1) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                           line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (n_names == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            names = realloc(names, alloc * sizeof(*names));
            if (!names) {
                perror("realloc");
                exit(2);
            }
        }
        names[n_names++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (n_names == 0)
        usage("names file contains no names");
}

static void
lookup_info(virConnectPtr conn, const char *name)
{
    virDomainInfo info;
    virDomainPtr dom = virDomainLookupByName(conn, name);

    if (!dom)
        die_libvirt("virDomainLookupByName");
    if (virDomainGetInfo(dom, &info) < 0) {
        virDomainFree(dom);
        die_libvirt("virDomainGetInfo");
    }
    virDomainFree(dom);
}

static void
one_iteration(struct worker *w)
{
    virConnectPtr conn = w->conn;

    switch (op) {
    case OP_OPEN_CLOSE: {
        virConnectPtr c = virConnectOpen(uri);
        if (!c)
            die_libvirt("virConnectOpen");
        if (virConnectClose(c) < 0)
            die_libvirt("virConnectClose");
        break;
    }
    case OP_LOOKUP_INFO:
        lookup_info(conn, "test");
        break;
    case OP_LOOKUP_INFO_MANY:
        lookup_info(conn, names[w->name_cursor++ % n_names]);
        break;
    case OP_LIST_ALL: {
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(conn, &doms, 0);
        int i;
        if (n < 0)
            die_libvirt("virConnectListAllDomains");
        for (i = 0; i < n; i++)
            virDomainFree(doms[i]);
        free(doms);
        last_domain_count = n;
        break;
    }
    }
}

/* CPU time so far of every thread of libvirtd (its pid from /run/libvirtd.pid), ns; 0 when unreadable */
static uint64_t
daemon_cpu_ns(void)
{
    char path[64], line[64];
    uint64_t total = 0;
    long pid = 0;
    FILE *f = fopen("/run/libvirtd.pid", "r");
    DIR *dir;
    struct dirent *entry;

    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    snprintf(path, sizeof(path), "/proc/%ld/task", pid);
    if (pid <= 0 || !(dir = opendir(path)))
        return 0;
    while ((entry = readdir(dir))) {
        unsigned long long ns;
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/schedstat", pid, entry->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        if (fgets(line, sizeof(line), f) && sscanf(line, "%llu", &ns) == 1)
            total += ns;
        fclose(f);
    }
    closedir(dir);
    return total;
}

/* CPU time of the whole process (every thread), ns */
static uint64_t
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *
run_worker(void *arg)
{
    struct worker *w = arg;
    long long i;

    for (i = 0; i < w->warmup; i++)
        one_iteration(w);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&go);
    for (i = 0; i < w->iterations; i++)
        one_iteration(w);
    return NULL;
}

/* Print a JSON string literal (URIs and op names are plain ASCII in
 * practice, but escape properly anyway). */
static void
json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int
main(int argc, char **argv)
{
    long long iterations = -1, warmup = -1, concurrency = 1, i;
    const char *names_file = NULL;
    uint64_t t0, t1, c0, c1, d0, d1, total;
    int a;

    for (a = 1; a < argc; a++) {
        const char *flag = argv[a];
        const char *val;
        if (a + 1 >= argc)
            usage("missing value for option");
        val = argv[++a];
        if (!strcmp(flag, "--uri"))
            uri = val;
        else if (!strcmp(flag, "--op"))
            op_name = val;
        else if (!strcmp(flag, "--iterations"))
            iterations = parse_count(flag, val, 1);
        else if (!strcmp(flag, "--warmup"))
            warmup = parse_count(flag, val, 0);
        else if (!strcmp(flag, "--concurrency"))
            concurrency = parse_count(flag, val, 1);
        else if (!strcmp(flag, "--names-file"))
            names_file = val;
        else
            usage("unknown option");
    }
    if (!uri || !op_name || iterations < 1)
        usage("--uri, --op and --iterations are required");
    if (concurrency > 256)
        usage("--concurrency must be 1..256");

    if (!strcmp(op_name, "open_close"))
        op = OP_OPEN_CLOSE;
    else if (!strcmp(op_name, "lookup_info"))
        op = OP_LOOKUP_INFO;
    else if (!strcmp(op_name, "list_all"))
        op = OP_LIST_ALL;
    else if (!strcmp(op_name, "lookup_info_many"))
        op = OP_LOOKUP_INFO_MANY;
    else
        usage("unknown --op");

    if (op == OP_LOOKUP_INFO_MANY) {
        if (!names_file)
            usage("--op lookup_info_many needs --names-file");
        load_names(names_file);
    }

    if (warmup < 0) {
        warmup = iterations / 10;
        if (warmup < 1)
            warmup = 1;
    }

    if (virInitialize() < 0)
        die_libvirt("virInitialize");
    virSetErrorFunc(NULL, silent_error);

    if (concurrency > 1) {
        struct worker *ws = calloc(concurrency, sizeof(*ws));
        if (op == OP_OPEN_CLOSE)
            usage("--op open_close runs with --concurrency 1 only");
        pthread_barrier_init(&ready, NULL, concurrency + 1);
        pthread_barrier_init(&go, NULL, concurrency + 1);
        for (i = 0; i < concurrency; i++) {
            ws[i].conn = virConnectOpen(uri);
            if (!ws[i].conn)
                die_libvirt("virConnectOpen");
            ws[i].name_cursor = (uint64_t)i * 7;
            ws[i].warmup = (warmup + concurrency - 1) / concurrency;
            /* spread N over the threads; the remainder goes to the first ones */
            ws[i].iterations = iterations / concurrency + (i < iterations % concurrency ? 1 : 0);
            if (pthread_create(&ws[i].thread, NULL, run_worker, &ws[i]) != 0) {
                perror("pthread_create");
                exit(1);
            }
        }
        pthread_barrier_wait(&ready);
        d0 = daemon_cpu_ns();
        c0 = cpu_ns();
        t0 = now_ns();
        pthread_barrier_wait(&go);
        for (i = 0; i < concurrency; i++)
            pthread_join(ws[i].thread, NULL);
        t1 = now_ns();
        c1 = cpu_ns();
        d1 = daemon_cpu_ns();
        total = t1 - t0;
        for (i = 0; i < concurrency; i++)
            virConnectClose(ws[i].conn);
        free(ws);
    } else {
        struct worker w = {0};
        if (op != OP_OPEN_CLOSE) {
            conn = virConnectOpen(uri);
            if (!conn)
                die_libvirt("virConnectOpen");
        }
        w.conn = conn;
        for (i = 0; i < warmup; i++)
            one_iteration(&w);

        d0 = daemon_cpu_ns();
        c0 = cpu_ns();
        t0 = now_ns();
        for (i = 0; i < iterations; i++)
            one_iteration(&w);
        t1 = now_ns();
        c1 = cpu_ns();
        d1 = daemon_cpu_ns();
        total = t1 - t0;
    }

    if (conn && virConnectClose(conn) < 0) {
        conn = NULL;
        die_libvirt("virConnectClose");
    }

    printf("{\"client\":\"c\",\"op\":");
    json_str(op_name);
    printf(",\"uri\":");
    json_str(uri);
    printf(",\"iterations\":%lld,\"concurrency\":%lld,\"total_ns\":%llu,\"per_op_ns\":%.3f",
           iterations, concurrency, (unsigned long long)total,
           (double)total / (double)iterations);
    if (op == OP_LIST_ALL)
        printf(",\"domains\":%d", last_domain_count);
    /* the process's CPU (all threads) per operation, over the timed part */
    printf(",\"cpu_ns_per_op\":%.0f", (double)(c1 - c0) / (double)iterations);
    if (d0 && d1)
        printf(",\"daemon_cpu_ns_per_op\":%.0f", (double)(d1 - d0) / (double)iterations);
    printf("}\n");
    fflush(stdout);
    return 0;
}
