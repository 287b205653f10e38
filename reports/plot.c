/* Writes latency.gp for a run and runs gnuplot on it (fork and execv, no shell). */
#include "reports/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* reports/ links nothing of ours, so it has its own always-on assertion (see latency.c). */
#define PLOT_ASSERT(cond) ((cond) ? (void)0 : plot_assert_fail(#cond, __LINE__))

#define NS_PER_S  1000000000ull
#define NS_PER_MS 1000000ull
#define PATH_SIZE 4096
/* Largest power of ten in a uint64_t, the top of the latency axis at most. */
#define POW10_MAX 10000000000000000000ull

static const char *const image_names[] = {"latency.svg", "latency.png", "throughput.svg",
                                          "throughput.png"};
#define IMAGE_COUNT (sizeof image_names / sizeof image_names[0])

/* Okabe-Ito colours (yellow left out: unreadable on white), told apart by most readers. */
static const char *const op_colours[] = {"0072B2", "E69F00", "009E73", "CC79A7",
                                         "56B4E9", "D55E00", "000000", "999999"};
/* Filled circle, square, triangle, diamond: with 8 colours, 32 ops look distinct. */
static const int op_point_types[] = {7, 5, 9, 13};

static _Noreturn void plot_assert_fail(const char *expr, int line)
{
    fprintf(stderr, "rheasim: assertion failed: %s (%s:%d)\n", expr, __FILE__, line);
    fflush(stderr);
    abort();
}

const char *rs_plot_status_name(enum rs_plot_status status)
{
    static const char *const names[] = {"ok", "no-gnuplot", "failed", "io"};
    if ((unsigned)status >= sizeof names / sizeof names[0]) {
        return "?";
    }
    return names[status];
}

/* A gnuplot single-quoted string: no escapes inside except '' for a quote. */
static void put_quoted(struct rs_buf *out, const char *text)
{
    rs_buf_putc(out, '\'');
    for (size_t i = 0; text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\'') {
            rs_buf_put(out, "''", 2);
        } else {
            rs_buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c); /* one line per command */
        }
    }
    rs_buf_putc(out, '\'');
}

static void put_seconds(struct rs_buf *out, uint64_t time_ns)
{
    rs_latency_put_fixed(out, time_ns, NS_PER_S, 6);
}

static void put_ms(struct rs_buf *out, uint64_t time_ns)
{
    rs_latency_put_fixed(out, time_ns, NS_PER_MS, 6);
}

/* What the latency plot needs to know about the records, gathered in one pass. */
struct plot_facts {
    uint64_t ok_counts[RS_LATENCY_OPS_MAX];
    uint64_t fail_count;
    uint64_t info_count;
    uint64_t latency_ns_min_positive; /* UINT64_MAX when no latency is positive */
    uint64_t latency_ns_max;
};

static void gather_facts(const struct rs_latency_log *log, struct plot_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    facts->latency_ns_min_positive = UINT64_MAX;
    for (size_t i = 0; i < log->record_count; i++) {
        const struct rs_latency_record *record = &log->records[i];
        PLOT_ASSERT(record->op_index < RS_LATENCY_OPS_MAX);
        if (record->outcome == RS_OUTCOME_OK) {
            facts->ok_counts[record->op_index]++;
        } else if (record->outcome == RS_OUTCOME_FAIL) {
            facts->fail_count++;
        } else {
            facts->info_count++;
        }
        uint64_t latency_ns = record->latency_ns;
        if (latency_ns > 0 && latency_ns < facts->latency_ns_min_positive) {
            facts->latency_ns_min_positive = latency_ns;
        }
        facts->latency_ns_max =
            latency_ns > facts->latency_ns_max ? latency_ns : facts->latency_ns_max;
    }
}

/*
 * The latency axis runs between powers of ten (clean log ticks) and leaves at least a factor
 * of two above the slowest operation, where the fault labels go.
 */
static void latency_axis(const struct plot_facts *facts, uint64_t *low_ns, uint64_t *high_ns)
{
    if (facts->latency_ns_min_positive == UINT64_MAX) {
        *low_ns = NS_PER_MS / 1000;
        *high_ns = NS_PER_MS * 1000;
        return;
    }
    uint64_t low = 1;
    while (low <= facts->latency_ns_min_positive / 10) {
        low *= 10;
    }
    uint64_t want = facts->latency_ns_max > UINT64_MAX / 2 ? UINT64_MAX : facts->latency_ns_max * 2;
    uint64_t high = low * 10;
    while (high < want && high < POW10_MAX) {
        high *= 10;
    }
    PLOT_ASSERT(low <= facts->latency_ns_min_positive);
    PLOT_ASSERT(high > low);
    *low_ns = low;
    *high_ns = high;
}

static void script_header(struct rs_buf *out, const struct rs_latency_log *log, const char *title)
{
    rs_buf_puts(out,
                "# latency.gp: written by rheasim. Run `gnuplot latency.gp` in the run\n"
                "# directory: it reads latency.csv and throughput.csv and writes latency.svg,\n"
                "# latency.png, throughput.svg and throughput.png.\n"
                "set datafile separator ','\n"
                "set title ");
    put_quoted(out, title != NULL ? title : "rheasim");
    uint64_t span_ns = rs_latency_span_ns(log);
    rs_buf_puts(out, "\nset xrange [0:");
    put_seconds(out, span_ns > 0 ? span_ns : NS_PER_S);
    rs_buf_puts(out,
                "]\n"
                "set xlabel 'simulated time (s)'\n"
                "set xtics nomirror\n"
                "set mxtics\n"
                "set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1\n"
                "set border 3\n"
                "set key below center horizontal samplen 2 spacing 1.1 width 1\n");
}

/*
 * Fault windows: translucent rectangles behind the data, labels along the top. Labels of
 * neighbouring windows step down by turns so that short windows do not print over each other;
 * a window in the right half has its label end at its right edge, so the text stays inside.
 */
static void script_windows(struct rs_buf *out, const struct rs_latency_log *log)
{
    static const char *const heights[] = {"0.96", "0.91", "0.86"};
    uint64_t span_ns = rs_latency_span_ns(log);
    rs_buf_puts(out, "# Fault windows.\n");
    for (size_t i = 0; i < log->window_count; i++) {
        const struct rs_latency_window *window = &log->windows[i];
        PLOT_ASSERT(window->end_ns >= window->start_ns);
        bool right_half = window->start_ns > span_ns / 2;
        rs_buf_printf(out, "set object %zu rect from first ", i + 1);
        put_seconds(out, window->start_ns);
        rs_buf_puts(out, ", graph 0 to first ");
        put_seconds(out, window->end_ns);
        rs_buf_puts(out,
                    ", graph 1 behind fillcolor rgb '#D55E00' "
                    "fillstyle transparent solid 0.15 noborder\n");
        rs_buf_printf(out, "set label %zu ", i + 1);
        put_quoted(out, window->label);
        rs_buf_puts(out, " at first ");
        put_seconds(out, right_half ? window->end_ns : window->start_ns);
        rs_buf_printf(out, ", graph %s %s front textcolor rgb '#8B2F00' offset character %s,0\n",
                      heights[i % 3], right_half ? "right" : "left", right_half ? "-0.4" : "0.4");
    }
}

/* Leadership transfers and splits: thin vertical lines behind the points (arrow ids start
 * after nothing else uses arrows in these scripts). */
static void script_marks(struct rs_buf *out, const struct rs_latency_log *log)
{
    static const char *const colours[] = {"0072B2", "009E73"};
    static const char *const dashes[] = {"2", "3"};
    rs_buf_puts(out, "# Leadership transfers (blue) and splits (green).\n");
    for (size_t i = 0; i < log->mark_count; i++) {
        const struct rs_latency_mark *m = &log->marks[i];
        rs_buf_printf(out, "set arrow %zu from first ", i + 1);
        put_seconds(out, m->time_ns);
        rs_buf_puts(out, ", graph 0 to first ");
        put_seconds(out, m->time_ns);
        rs_buf_printf(out, ", graph 1 nohead back linewidth 1 dashtype %s lc rgb '#%s'\n",
                      dashes[m->kind], colours[m->kind]);
    }
}

/* One latency series: where its points are and how they look. */
struct series_style {
    const char *filter; /* a gnuplot condition on the row, without the op */
    const char *op;     /* also filter on this op, or NULL */
    int point_type;
    const char *point_size;
    const char *colour; /* RRGGBB */
    const char *title;
};

/*
 * Points are small and (for ok ops) partly transparent so that dense runs stay readable. A key
 * sample copies its series' point size and colour and would be hard to see, so the key gets
 * its own NaN series, never drawn, with a large opaque marker.
 */
static void put_series(struct rs_buf *out, const struct series_style *style, bool translucent)
{
    rs_buf_printf(out, "  'latency.csv' skip 1 using 1:(%s", style->filter);
    if (style->op != NULL) {
        rs_buf_puts(out, " && strcol(3) eq ");
        put_quoted(out, style->op);
    }
    rs_buf_printf(out,
                  " ? $2 : NaN) with points pointtype %d pointsize %s "
                  "linecolor rgb '#%s%s' notitle, \\\n",
                  style->point_type, style->point_size, translucent ? "60" : "", style->colour);
    rs_buf_printf(out, "  NaN with points pointtype %d pointsize 1.2 linecolor rgb '#%s' title ",
                  style->point_type, style->colour);
    put_quoted(out, style->title);
}

/* Series for what is there only: gnuplot warns about series without points. */
static size_t latency_series(struct rs_buf *out,
                             const struct rs_latency_log *log,
                             const struct plot_facts *facts)
{
    size_t order[RS_LATENCY_OPS_MAX];
    size_t op_count = rs_latency_ops_sorted(log, order);
    size_t series_count = 0;
    for (size_t i = 0; i < op_count; i++) {
        const char *op = log->op_names[order[i]];
        if (facts->ok_counts[order[i]] > 0) {
            const struct series_style style = {"strcol(4) eq 'ok'",         op,
                                               op_point_types[(i / 8) % 4], "0.45",
                                               op_colours[i % 8],           op};
            rs_buf_puts(out, series_count++ > 0 ? ", \\\n" : "");
            put_series(out, &style, true);
        }
    }
    if (facts->fail_count > 0) {
        const struct series_style style = {"strcol(4) eq 'fail'", NULL, 2, "0.7", "D00000",
                                           "failed (any op)"};
        rs_buf_puts(out, series_count++ > 0 ? ", \\\n" : "");
        put_series(out, &style, false);
    }
    if (facts->info_count > 0) {
        const struct series_style style = {
            "strcol(4) eq 'info'", NULL, 8, "0.8", "000000", "info: outcome unknown (at timeout)"};
        rs_buf_puts(out, series_count++ > 0 ? ", \\\n" : "");
        put_series(out, &style, false);
    }
    return series_count;
}

/* The plot command, then its replot into the PNG; series only for what is there. */
static void script_latency_plot(struct rs_buf *out, const struct rs_latency_log *log)
{
    struct plot_facts facts;
    gather_facts(log, &facts);
    uint64_t low_ns = 0;
    uint64_t high_ns = 0;
    latency_axis(&facts, &low_ns, &high_ns);
    if (log->record_count == 0) {
        /* Tags 1..window_count belong to the fault windows. */
        rs_buf_printf(out,
                      "set label %zu 'no operations recorded' at graph 0.5, graph 0.5 "
                      "center front\n",
                      log->window_count + 1);
    }
    rs_buf_puts(out,
                "# Latency over time.\nset ylabel 'latency (ms)'\nset logscale y 10\n"
                "set format y '%g'\nset ytics nomirror\nset yrange [");
    put_ms(out, low_ns);
    rs_buf_putc(out, ':');
    put_ms(out, high_ns);
    rs_buf_puts(out, "]\n");
    rs_buf_printf(out,
                  "set terminal svg size %d,%d noenhanced font 'Sans,11' "
                  "background '#ffffff'\nset output 'latency.svg'\nplot \\\n",
                  RS_PLOT_WIDTH, RS_PLOT_HEIGHT);
    size_t series_count = latency_series(out, log, &facts);
    if (series_count == 0) {
        /* gnuplot refuses a plot with no defined point, so draw a constant below the axis. */
        rs_buf_puts(out, "  1e-30 notitle");
    }
    bool kinds[2] = {false, false};
    for (size_t i = 0; i < log->mark_count; i++) {
        kinds[log->marks[i].kind] = true;
    }
    /* the marks' key entries: never-drawn series in the marks' styles */
    if (kinds[RS_LATENCY_MARK_TRANSFER]) {
        rs_buf_puts(out, ", \\\n  NaN with lines dashtype 2 lc rgb '#0072B2' title 'leader transfer'");
    }
    if (kinds[RS_LATENCY_MARK_SPLIT]) {
        rs_buf_puts(out, ", \\\n  NaN with lines dashtype 3 lc rgb '#009E73' title 'split'");
    }
    rs_buf_printf(out,
                  "\nset terminal pngcairo size %d,%d noenhanced font 'Sans,10' "
                  "background '#ffffff'\nset output 'latency.png'\nreplot\n",
                  RS_PLOT_WIDTH, RS_PLOT_HEIGHT);
}

static void script_throughput_plot(struct rs_buf *out, const struct rs_latency_log *log)
{
    /* histeps at the middle of each second draws each bucket across [s, s+1). */
    static const char *const series[] = {
        "'throughput.csv' skip 1 using ($1+0.5):2 with histeps linewidth 1.5 "
        "linecolor rgb '#009E73' title 'ok'",
        "'throughput.csv' skip 1 using ($1+0.5):3 with histeps linewidth 1.5 "
        "linecolor rgb '#D00000' title 'failed'",
        "'throughput.csv' skip 1 using ($1+0.5):4 with histeps linewidth 1.5 "
        "linecolor rgb '#000000' dashtype 2 title 'info (outcome unknown)'",
    };
    rs_buf_puts(out,
                "# Throughput: operations by the second in which they completed.\n"
                "unset logscale y\nset format y '%g'\n");
    rs_buf_puts(out, log->record_count == 0 ? "set yrange [0:1]\n" : "set yrange [0:*]\n");
    rs_buf_puts(out, "set offsets 0, 0, graph 0.15, 0\nset ylabel 'operations per second'\n");
    rs_buf_printf(out,
                  "set terminal svg size %d,%d noenhanced font 'Sans,11' "
                  "background '#ffffff'\nset output 'throughput.svg'\nplot \\\n",
                  RS_PLOT_WIDTH, RS_PLOT_HEIGHT);
    if (log->record_count == 0) {
        rs_buf_puts(out, "  -1 notitle");
    } else {
        for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
            rs_buf_puts(out, i > 0 ? ", \\\n  " : "  ");
            rs_buf_puts(out, series[i]);
        }
    }
    rs_buf_printf(out,
                  "\nset terminal pngcairo size %d,%d noenhanced font 'Sans,10' "
                  "background '#ffffff'\nset output 'throughput.png'\nreplot\n"
                  "unset output\n",
                  RS_PLOT_WIDTH, RS_PLOT_HEIGHT);
}

void rs_plot_script(const struct rs_latency_log *log, const char *title, struct rs_buf *out)
{
    PLOT_ASSERT(log != NULL);
    PLOT_ASSERT(out != NULL);
    script_header(out, log, title);
    script_windows(out, log);
    script_marks(out, log);
    script_latency_plot(out, log);
    script_throughput_plot(out, log);
}

static void say(char *message, size_t message_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *message, size_t message_size, const char *fmt, ...)
{
    if (message == NULL || message_size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, message_size, fmt, ap);
    va_end(ap);
}

static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Looks name up on PATH as execvp would (an empty entry is the current directory). */
static bool search_path(const char *name, char *found, size_t found_size)
{
    const char *path = getenv("PATH");
    if (path == NULL) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    const char *entry = path;
    for (;;) {
        const char *end = strchr(entry, ':');
        size_t entry_size = end != NULL ? (size_t)(end - entry) : strlen(entry);
        int length = entry_size == 0
                         ? snprintf(found, found_size, "./%s", name)
                         : snprintf(found, found_size, "%.*s/%s", (int)entry_size, entry, name);
        if (length > 0 && (size_t)length < found_size && is_executable(found)) {
            return true;
        }
        if (end == NULL) {
            return false;
        }
        entry = end + 1; /* each turn moves past one ':', so the loop ends */
    }
}

/* Resolves the gnuplot to run before forking, so that "missing" is told apart from "failed". */
static bool find_gnuplot(char *found, size_t found_size)
{
    const char *wanted = getenv("RHEASIM_GNUPLOT");
    if (wanted == NULL || wanted[0] == '\0') {
        wanted = "gnuplot";
    }
    if (strchr(wanted, '/') != NULL) {
        int length = snprintf(found, found_size, "%s", wanted);
        return length > 0 && (size_t)length < found_size && is_executable(found);
    }
    return search_path(wanted, found, found_size);
}

static void remove_file(const char *dir, const char *name)
{
    char path[PATH_SIZE];
    int length = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (length > 0 && (size_t)length < sizeof path) {
        unlink(path); /* a file that was never there is fine */
    }
}

/* Child side: only async-signal-safe calls between fork and exec. */
static _Noreturn void exec_gnuplot(const char *gnuplot, const char *dir, const char *script,
                                   int null_fd, int log_fd)
{
    static const char exec_failed[] = "rheasim: could not execute gnuplot\n";
    char arg0[] = "gnuplot";
    char arg1[64];
    snprintf(arg1, sizeof arg1, "%s", script);
    char *const argv[] = {arg0, arg1, NULL};
    if (chdir(dir) != 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
        dup2(log_fd, STDERR_FILENO) < 0) {
        _exit(126);
    }
    execv(gnuplot, argv);
    ssize_t ignored = write(STDERR_FILENO, exec_failed, sizeof exec_failed - 1);
    (void)ignored;
    _exit(127);
}

/* Runs gnuplot and waits; returns its wait status, or -1 with errno when it did not start. */
static int spawn_and_wait(const char *gnuplot, const char *dir, const char *script,
                          const char *log_path)
{
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        return -1;
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        int err = errno;
        close(log_fd);
        errno = err;
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        exec_gnuplot(gnuplot, dir, script, null_fd, log_fd);
    }
    int err = errno;
    close(null_fd);
    close(log_fd);
    if (pid < 0) {
        errno = err;
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return status;
}

static bool file_nonempty(const char *dir, const char *name)
{
    char path[PATH_SIZE];
    struct stat st;
    int length = snprintf(path, sizeof path, "%s/%s", dir, name);
    return length > 0 && (size_t)length < sizeof path && stat(path, &st) == 0 &&
           S_ISREG(st.st_mode) && st.st_size > 0;
}

static const struct rs_plot_job latency_job = {"latency.gp", "latency.csv", "gnuplot.log",
                                               image_names, IMAGE_COUNT};
static const char *const store_image_names[] = {"stores.svg", "stores.png"};
static const struct rs_plot_job stores_job = {"stores.gp", "timeseries.csv", "gnuplot.log",
                                              store_image_names, 2};

static enum rs_plot_status run_gnuplot(const char *gnuplot,
                                       const char *dir,
                                       const struct rs_plot_job *job,
                                       char *message,
                                       size_t message_size)
{
    char log_path[PATH_SIZE];
    snprintf(log_path, sizeof log_path, "%s/%s", dir, job->log);
    int status = spawn_and_wait(gnuplot, dir, job->script, log_path);
    if (status < 0) {
        say(message, message_size, "could not run %s (%s): wrote %s and %s in %s", gnuplot,
            strerror(errno), job->csv, job->script, dir);
        return RS_PLOT_FAILED;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        say(message, message_size,
            "%s failed (%s %d, see %s): wrote %s and %s in %s", gnuplot,
            WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log_path, job->csv,
            job->script, dir);
        return RS_PLOT_FAILED;
    }
    for (size_t i = 0; i < job->image_count; i++) {
        if (!file_nonempty(dir, job->images[i])) {
            say(message, message_size, "%s exited 0 but did not write %s/%s (see %s)", gnuplot, dir,
                job->images[i], log_path);
            return RS_PLOT_FAILED;
        }
    }
    if (!file_nonempty(dir, job->log)) {
        remove_file(dir, job->log);
    }
    char names[256];
    size_t at = 0;
    for (size_t i = 0; i < job->image_count && at < sizeof names; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == job->image_count ? " and " : ", ");
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", sep, job->images[i]);
    }
    say(message, message_size, "wrote %s in %s", names, dir);
    return RS_PLOT_OK;
}

enum rs_plot_status rs_plot_latency(const struct rs_latency_log *log,
                                    const char *dir,
                                    const char *title,
                                    char *message,
                                    size_t message_size)
{
    PLOT_ASSERT(log != NULL);
    PLOT_ASSERT(dir != NULL);
    char path[PATH_SIZE];
    int err = rs_latency_write_csv(log, dir, path, sizeof path);
    if (err == 0) {
        struct rs_buf script;
        rs_buf_init(&script);
        rs_plot_script(log, title, &script);
        err = rs_latency_write_file(dir, "latency.gp", &script, path, sizeof path);
        rs_buf_free(&script);
    }
    if (err != 0) {
        say(message, message_size, "cannot write %s: %s", path, strerror(err));
        return RS_PLOT_IO;
    }
    for (size_t i = 0; i < IMAGE_COUNT; i++) {
        remove_file(dir, image_names[i]);
    }
    char gnuplot[PATH_SIZE];
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        const char *wanted = getenv("RHEASIM_GNUPLOT");
        if (wanted != NULL && wanted[0] != '\0') {
            say(message, message_size,
                "gnuplot not found at RHEASIM_GNUPLOT=%s: wrote latency.csv and latency.gp in "
                "%s; fix RHEASIM_GNUPLOT or install gnuplot-nox to get latency.svg and "
                "latency.png",
                wanted, dir);
        } else {
            say(message, message_size,
                "gnuplot not found on PATH: wrote latency.csv and latency.gp in %s; install "
                "gnuplot-nox to get latency.svg and latency.png",
                dir);
        }
        return RS_PLOT_NO_GNUPLOT;
    }
    return run_gnuplot(gnuplot, dir, &latency_job, message, message_size);
}

enum rs_plot_status rs_plot_run(const char *dir, const struct rs_plot_job *job, char *message,
                                size_t message_size)
{
    PLOT_ASSERT(dir != NULL && job != NULL);
    for (size_t i = 0; i < job->image_count; i++) {
        remove_file(dir, job->images[i]);
    }
    char gnuplot[PATH_SIZE];
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        say(message, message_size, "gnuplot not found (PATH or RHEASIM_GNUPLOT): wrote %s and %s "
                                   "in %s; install gnuplot-nox for the plots",
            job->csv, job->script, dir);
        return RS_PLOT_NO_GNUPLOT;
    }
    return run_gnuplot(gnuplot, dir, job, message, message_size);
}

/* Leaders and region replicas per store over time, from timeseries.csv, whose rows come in
 * groups of one per store, in store order: `every N::s` picks one store's rows. A down store
 * has no point (a gap). */
void rs_plot_stores_script(const char *title, uint32_t store_count, struct rs_buf *out)
{
    rs_buf_puts(out, "# rheasim: leaders and region replicas per store. Run in the run\n"
                     "# directory: it reads timeseries.csv and writes stores.svg and stores.png.\n"
                     "set datafile separator ','\n");
    for (int format = 0; format < 2; format++) {
        rs_buf_printf(out, "set terminal %s size %d,%d%s\nset output 'stores.%s'\n",
                      format == 0 ? "svg dynamic" : "pngcairo", RS_PLOT_WIDTH, RS_PLOT_HEIGHT * 2,
                      format == 0 ? " background '#ffffff'" : "", format == 0 ? "svg" : "png");
        rs_buf_puts(out, "set multiplot layout 2,1 title ");
        put_quoted(out, title != NULL ? title : "rheasim");
        rs_buf_puts(out, "\nset key outside right\nset grid\nset xlabel 'simulated time (s)'\n");
        for (int panel = 0; panel < 2; panel++) {
            rs_buf_printf(out, "set ylabel '%s per store'\nplot ",
                          panel == 0 ? "leaders" : "region replicas");
            for (uint32_t s = 1; s <= store_count; s++) {
                rs_buf_printf(out,
                              "%s'timeseries.csv' skip 1 every %u::%u using 1:($3==1 ? $%d : 1/0) "
                              "with steps linewidth 1.5 lc rgb '#%s' title 'store %u'",
                              s > 1 ? ", \\\n     " : "", store_count, s - 1,
                              panel == 0 ? 4 : 5,
                              op_colours[(s - 1) % (sizeof op_colours / sizeof op_colours[0])],
                              s);
            }
            rs_buf_puts(out, "\n");
        }
        rs_buf_puts(out, "unset multiplot\n");
    }
}

enum rs_plot_status rs_plot_stores(const char *dir, const char *title, uint32_t store_count,
                                   char *message, size_t message_size)
{
    PLOT_ASSERT(dir != NULL);
    char path[PATH_SIZE];
    struct rs_buf script;
    rs_buf_init(&script);
    rs_plot_stores_script(title, store_count, &script);
    int err = rs_latency_write_file(dir, "stores.gp", &script, path, sizeof path);
    rs_buf_free(&script);
    if (err != 0) {
        say(message, message_size, "cannot write %s: %s", path, strerror(err));
        return RS_PLOT_IO;
    }
    for (size_t i = 0; i < stores_job.image_count; i++) {
        remove_file(dir, stores_job.images[i]);
    }
    char gnuplot[PATH_SIZE];
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        say(message, message_size, "gnuplot not found: wrote timeseries.csv and stores.gp in %s",
            dir);
        return RS_PLOT_NO_GNUPLOT;
    }
    return run_gnuplot(gnuplot, dir, &stores_job, message, message_size);
}
