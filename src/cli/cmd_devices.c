/* clcnn devices: every OpenCL platform and device, and which one "auto"
 * picks; with --check, each device's op families against the CPU backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clcnn devices [--help]\n"
               "       clcnn devices --check [--device D] [--json]\n\n"
               "Lists every OpenCL platform and device (type, compute units, global memory,\n"
               "OpenCL C version, driver version) and marks the one that device \"auto\"\n"
               "picks: the first GPU, else the first other device, else the CPU backend.\n"
               "Choose a device with --device opencl:P:D or CLCNN_DEVICE=opencl:P:D.\n\n"
               "--check builds the kernels on each device (or on --device D alone) and runs\n"
               "every op family on small cases of each code path against the CPU backend:\n"
               "one line per family with pass/FAIL, the worst error relative to the output's\n"
               "magnitude (tolerance 1e-4) and the device's time, then a verdict.  The exit\n"
               "status is 1 when any check fails or there is no device to check.  --json\n"
               "prints the same as one JSON object (attach it to a bug report).\n");
}

static void print_mem(unsigned long long bytes)
{
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if (bytes >= (1ull << 30))
        printf("%.1f GiB", (double)bytes / gib);
    else
        printf("%llu MiB", bytes >> 20);
}

/* Every OpenCL device into *list (the caller frees it), *count of them;
 * prints the error and returns non-zero on failure. */
static int list_devices(clcnn_device_info **list, size_t *count)
{
    /* A CPU context only to receive an error message, should listing fail. */
    clcnn_ctx *ctx = NULL;
    if (clcnn_ctx_create_with_log(&ctx, "cpu", NULL, NULL) != CLCNN_OK) {
        clcnn_ctx_free(ctx);
        ctx = NULL;
    }
    *list = NULL;
    *count = 0;
    int st = clcnn_devices_list(ctx, NULL, 0, count);
    if (st == CLCNN_OK && *count > 0) {
        *list = calloc(*count, sizeof **list);
        if (!*list) {
            clcnn_ctx_free(ctx);
            return cli_fail("out of memory");
        }
        size_t again = 0;
        st = clcnn_devices_list(ctx, *list, *count, &again);
        if (again < *count)
            *count = again;
    }
    if (st != CLCNN_OK) {
        int rc = cli_fail("listing OpenCL devices: %s", ctx && *clcnn_errmsg(ctx) ? clcnn_errmsg(ctx)
                                                                                  : clcnn_status_str(st));
        free(*list);
        *list = NULL;
        clcnn_ctx_free(ctx);
        return rc;
    }
    clcnn_ctx_free(ctx);
    return 0;
}

static int print_list(void)
{
    clcnn_device_info *list;
    size_t count;
    if (list_devices(&list, &count))
        return 1;

    if (count == 0) {
        printf("no OpenCL devices found; \"auto\" uses the CPU backend\n");
        free(list);
        return 0;
    }
    int last_platform = -1, any_auto = 0;
    for (size_t i = 0; i < count; i++) {
        const clcnn_device_info *d = &list[i];
        if (d->platform_index != last_platform) {
            printf("%sPlatform %d: %s\n", i ? "\n" : "", d->platform_index, d->platform_name);
            last_platform = d->platform_index;
        }
        printf("  opencl:%d:%d  %s (%s)%s\n", d->platform_index, d->device_index, d->device_name, d->device_type,
               d->is_auto_choice ? "  <- auto" : "");
        printf("      compute units: %u, global memory: ", d->compute_units);
        print_mem((unsigned long long)d->global_mem_bytes);
        printf("\n      %s, driver %s\n", d->opencl_c_version, d->driver_version);
        any_auto |= d->is_auto_choice;
    }
    if (!any_auto)
        printf("\nno device is usable (none is available with a compiler); \"auto\" uses the CPU backend\n");
    free(list);
    return 0;
}

/* ------------------------------------------------------------ --check */

static void print_report_text(const char *device, const clcnn_check_report *r)
{
    printf("%s  %s%s%s\n", device, r->device[0] ? r->device : "(no context)", r->backend[0] ? " on " : "",
           r->backend);
    size_t passed = 0;
    for (size_t i = 0; i < r->count; i++) {
        const clcnn_check_row *row = &r->rows[i];
        const char *verdict = row->skipped ? "skip" : row->passed ? "pass" : "FAIL";
        passed += row->passed && !row->skipped;
        printf("  %-16s %s  %2u case%s  worst %8.2e  %9.3f ms%s%s\n", row->name, verdict, row->cases,
               row->cases == 1 ? " " : "s", row->worst_error, row->seconds * 1e3, row->message[0] ? "  " : "",
               row->message);
    }
    printf("verdict: %s %s (%zu of %zu checks passed)\n", device, r->passed ? "passes" : "FAILS", passed,
           r->count);
}

static void print_report_json(const char *device, const clcnn_check_report *r)
{
    printf("{\"device\": ");
    cli_json_string(stdout, device);
    printf(", \"name\": ");
    cli_json_string(stdout, r->device);
    printf(", \"backend\": ");
    cli_json_string(stdout, r->backend);
    printf(", \"passed\": %s, \"checks\": [", r->passed ? "true" : "false");
    for (size_t i = 0; i < r->count; i++) {
        const clcnn_check_row *row = &r->rows[i];
        printf("%s{\"name\": ", i ? ", " : "");
        cli_json_string(stdout, row->name);
        printf(", \"passed\": %s, \"skipped\": %s, \"cases\": %u, \"worst_error\": %.6g, \"seconds\": %.6f, "
               "\"message\": ",
               row->passed ? "true" : "false", row->skipped ? "true" : "false", row->cases, row->worst_error,
               row->seconds);
        cli_json_string(stdout, row->message);
        printf("}");
    }
    printf("]}");
}

/* Checks device (NULL: every OpenCL device listed); 0 when all pass. */
static int check_devices(const char *device, int json)
{
    clcnn_device_info *list = NULL;
    size_t count = 0;
    if (!device) {
        if (list_devices(&list, &count))
            return 1;
        if (count == 0) {
            free(list);
            return cli_fail("no OpenCL device to check (clcnn devices lists none); "
                            "check one with --device, e.g. --device cpu");
        }
    }
    size_t n = device ? 1 : count;
    clcnn_check_report *report = malloc(sizeof *report);
    if (!report) {
        free(list);
        return cli_fail("out of memory");
    }
    int all = 1;
    if (json)
        printf("{\"devices\": [");
    for (size_t i = 0; i < n; i++) {
        char name[64];
        if (device)
            snprintf(name, sizeof name, "%s", device);
        else
            snprintf(name, sizeof name, "opencl:%d:%d", list[i].platform_index, list[i].device_index);
        clcnn_ctx_options o = {.device = name};
        clcnn_device_check(&o, report);
        all &= report->passed;
        if (json) {
            printf("%s", i ? ", " : "");
            print_report_json(name, report);
        } else {
            printf("%s", i ? "\n" : "");
            print_report_text(name, report);
        }
        fflush(stdout);
    }
    if (json)
        printf("], \"passed\": %s}\n", all ? "true" : "false");
    free(report);
    free(list);
    return all ? 0 : 1;
}

int cmd_devices(int argc, char **argv)
{
    int check = 0, json = 0;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if (strncmp(argv[i], "--device=", 9) == 0) {
            device = argv[i] + 9;
        } else {
            return cli_usage_error("devices", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!check && (json || device))
        return cli_usage_error("devices", "--json and --device go with --check");
    return check ? check_devices(device, json) : print_list();
}
