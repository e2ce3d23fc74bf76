/*
 * An adaptive session driven from C through the Isochord C API.
 *
 * Creates a session of the `relax` preset, renders 10 s at 48 kHz in blocks of 256
 * frames (as an audio callback would) while pushing a heart rate that climbs from 70
 * to 95 bpm, sets a parameter half-way, prints the session's events (JSON) as they
 * come, writes the sound to a 32-bit float WAV, ends the session and frees it.
 *
 * It renders faster than real time, so it calls isochord_render_ready, which waits
 * for the session's control ticks: the file is then the same on every run. A callback
 * bound to a sound card calls isochord_render instead, which never waits.
 *
 * Build (from the repository's root; see README.md, "From C"):
 *   cargo build -p isochord-capi
 *   cc -Icapi/include examples/c/render.c -Ltarget/debug -lisochord_capi \
 *      -Wl,-rpath,$PWD/target/debug -o render
 *   ./render out.wav
 */

#include "isochord.h"

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define SECONDS 10
#define BLOCK 256

/* Writes interleaved stereo floats as a WAV file (format 3: IEEE float). */
static int write_wav(const char *path, const float *samples, uint32_t frames) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint32_t data = frames * 2 * 4, riff = 36 + data, fmt_len = 16, rate = RATE;
    uint32_t byte_rate = RATE * 2 * 4;
    uint16_t format = 3, channels = 2, align = 8, bits = 32;
    fwrite("RIFF", 1, 4, f); fwrite(&riff, 4, 1, f); fwrite("WAVE", 1, 4, f);
    fwrite("fmt ", 1, 4, f); fwrite(&fmt_len, 4, 1, f);
    fwrite(&format, 2, 1, f); fwrite(&channels, 2, 1, f); fwrite(&rate, 4, 1, f);
    fwrite(&byte_rate, 4, 1, f); fwrite(&align, 2, 1, f); fwrite(&bits, 2, 1, f);
    fwrite("data", 1, 4, f); fwrite(&data, 4, 1, f);
    size_t n = fwrite(samples, sizeof(float), (size_t)frames * 2, f);
    return (fclose(f) == 0 && n == (size_t)frames * 2) ? 0 : -1;
}

/* Prints every event waiting, one JSON object a line. */
static int print_events(IsochordSession *s) {
    char buf[4096];
    size_t len = 0;
    int n = 0;
    for (;;) {
        IsochordStatus st = isochord_poll_event(s, buf, sizeof buf, &len);
        if (st == ISOCHORD_STATUS_NO_EVENT) break;
        if (st == ISOCHORD_STATUS_BUFFER_TOO_SMALL) {
            /* a long event: take it as a string the library allocates */
            char *e = NULL;
            if (isochord_poll_event_string(s, &e) != ISOCHORD_STATUS_OK) break;
            printf("event %s\n", e);
            isochord_string_free(e);
        } else if (st == ISOCHORD_STATUS_OK) {
            printf("event %s\n", buf);
        } else {
            fprintf(stderr, "poll: %s\n", isochord_last_error(s));
            break;
        }
        n++;
    }
    return n;
}

int main(int argc, char **argv) {
    const char *out = argc > 1 ? argv[1] : "render.wav";
    IsochordOptions options = isochord_options_default();
    options.sample_rate = RATE;
    options.duration_s = SECONDS;
    options.seed = 7;
    /* readings are pushed ahead of the sound, as from a recording: the control ticks
       wait for them, so the sound does not depend on thread timing */
    options.pacing = ISOCHORD_PACING_RECORDED;

    IsochordSession *s = NULL;
    if (isochord_create_preset("relax", &options, &s) != ISOCHORD_STATUS_OK) {
        fprintf(stderr, "cannot create the session: %s\n", isochord_create_error());
        return 1;
    }
    printf("isochord %s: relax, %d s at %d Hz\n", isochord_version(), SECONDS, RATE);

    const uint32_t total = RATE * SECONDS;
    float *samples = calloc((size_t)total * 2, sizeof(float));
    if (!samples) return 1;
    uint32_t done = 0;
    int next_reading = 0, events = 0, param_set = 0;
    for (;;) {
        /* heart rate, one reading a second, one second ahead: 70 -> 95 bpm */
        while (next_reading <= (int)(done / RATE) + 1 && next_reading <= SECONDS) {
            double bpm = 70.0 + 25.0 * next_reading / SECONDS;
            if (isochord_push_sample(s, ISOCHORD_SAMPLE_KIND_HEART_RATE, next_reading, bpm)
                != ISOCHORD_STATUS_OK) {
                fprintf(stderr, "push: %s\n", isochord_last_error(s));
                return 1;
            }
            next_reading++;
        }
        if (!param_set && done >= total / 2) {
            if (isochord_set_param(s, "reverb", 0.6f) != ISOCHORD_STATUS_OK) {
                fprintf(stderr, "set_param: %s\n", isochord_last_error(s));
                return 1;
            }
            param_set = 1;
        }
        /* one callback: a block of BLOCK frames */
        uint32_t want = total - done < BLOCK ? total - done : BLOCK;
        size_t n = 0;
        IsochordStatus st = isochord_render_ready(s, samples + (size_t)done * 2, want, &n);
        done += (uint32_t)n;
        if (st == ISOCHORD_STATUS_ENDED || done >= total) break;
        if (st != ISOCHORD_STATUS_OK) {
            fprintf(stderr, "render: status %d\n", (int)st);
            return 1;
        }
        events += print_events(s);
        if (n == 0) sched_yield(); /* the next control tick is being decided */
    }

    char *summary = NULL;
    IsochordStatus st = isochord_end(s, &summary);
    events += print_events(s);
    if (st != ISOCHORD_STATUS_OK) {
        fprintf(stderr, "end: %s\n", isochord_last_error(s));
        return 1;
    }
    printf("summary %s\n", summary);
    isochord_string_free(summary);
    isochord_free(s);

    if (write_wav(out, samples, done) != 0) {
        fprintf(stderr, "cannot write %s\n", out);
        return 1;
    }
    printf("wrote %s: %u frames, %d events\n", out, done, events);
    free(samples);
    return done == total ? 0 : 1;
}
