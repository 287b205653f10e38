/* Latency and throughput plots of a run: a gnuplot script, and gnuplot run on it. */
#ifndef RS_REPORTS_PLOT_H
#define RS_REPORTS_PLOT_H

#include <stddef.h>

#include "reports/json.h"
#include "reports/latency.h"

/* Plot size in pixels (SVG and PNG alike). */
#define RS_PLOT_WIDTH  1200
#define RS_PLOT_HEIGHT 500

enum rs_plot_status {
    RS_PLOT_OK,         /* CSVs, latency.gp and the four images are written */
    RS_PLOT_NO_GNUPLOT, /* CSVs and latency.gp written; no gnuplot to run */
    RS_PLOT_FAILED,     /* CSVs and latency.gp written; gnuplot failed (see gnuplot.log) */
    RS_PLOT_IO,         /* a file in dir could not be written */
};

/* "ok", "no-gnuplot", "failed", "io" (or "?" for a value out of range). */
const char *rs_plot_status_name(enum rs_plot_status status);

/*
 * The gnuplot script latency.gp. Run in the run directory, it reads latency.csv and
 * throughput.csv and writes latency.svg, latency.png, throughput.svg and throughput.png:
 * latency (ms, log scale) over simulated time (s), one point series per op for ok
 * operations, failed and info operations (at their timeout) as their own markers, fault
 * windows shaded with their labels at the top; throughput per second with the same shading.
 * title may be NULL.
 */
void rs_plot_script(const struct rs_latency_log *log, const char *title, struct rs_buf *out);

/*
 * Writes latency.csv, latency-quantiles.csv, throughput.csv and latency.gp into dir (which
 * must exist), then runs gnuplot there to make the images. gnuplot is $RHEASIM_GNUPLOT when
 * that is set and not empty (a path, or a name looked up on PATH), else "gnuplot" on PATH.
 * Its output goes to dir/gnuplot.log, removed when empty. Images from an earlier run are
 * removed first, so that they never disagree with the CSVs.
 * message (may be NULL) gets one line for the user, without a newline, on every status.
 */
enum rs_plot_status rs_plot_latency(const struct rs_latency_log *log,
                                    const char *dir,
                                    const char *title,
                                    char *message,
                                    size_t message_size);

/* A gnuplot script in a directory and the images it must make (rs_plot_run). */
struct rs_plot_job {
    const char *script; /* run in the directory */
    const char *csv;    /* its data, named in messages */
    const char *log;    /* gnuplot's output, removed when empty */
    const char *const *images;
    size_t image_count;
};
/*
 * Runs gnuplot on job->script in dir (found as rs_plot_latency finds it) after removing the
 * job's images, and checks that each was written. RS_PLOT_OK, RS_PLOT_NO_GNUPLOT or
 * RS_PLOT_FAILED, with one line for the user in message.
 */
enum rs_plot_status rs_plot_run(const char *dir, const struct rs_plot_job *job, char *message,
                                size_t message_size);
/*
 * stores.gp: leaders and region replicas per store over time (two panels), read from the
 * run's timeseries.csv; rs_plot_stores writes it into dir and runs gnuplot for stores.svg
 * and stores.png (statuses and message as rs_plot_latency; timeseries.csv must exist).
 */
void rs_plot_stores_script(const char *title, uint32_t store_count, struct rs_buf *out);
enum rs_plot_status rs_plot_stores(const char *dir, const char *title, uint32_t store_count,
                                   char *message, size_t message_size);

#endif
