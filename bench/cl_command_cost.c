/* What one command costs an OpenCL device, arithmetic aside: the
 * microseconds of an empty kernel enqueued and waited for (clFinish after
 * each), of a batch of empty kernels with one wait at the end, and of a
 * 40-byte blocking read; medians of 9 rounds.  A batch-1 prediction is
 * such launches and one read, so this is the floor under its latency.
 *
 *   build/cl_command_cost [PLATFORM DEVICE] [LAUNCHES]   (default 0 0, 6)
 *
 * Prints one JSON object; errors go to stderr with a non-zero exit. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 9
#define CALLS 2000

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what, cl_int err)
{
    fprintf(stderr, "cl_command_cost: %s failed (OpenCL error %d)\n", what, (int)err);
    return 1;
}

/* The median over ROUNDS of the microseconds of one call: `launches`
 * launches of kn, then a blocking read of buf (read) or clFinish. */
static double median_us(cl_command_queue q, cl_kernel kn, cl_mem buf, int launches, int read, cl_int *err)
{
    double r[ROUNDS];
    float out[10];
    const size_t one = 1;
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_us();
        for (int c = 0; c < CALLS && !*err; c++) {
            for (int l = 0; l < launches && !*err; l++)
                *err = clEnqueueNDRangeKernel(q, kn, 1, NULL, &one, &one, 0, NULL, NULL);
            if (!*err)
                *err = read ? clEnqueueReadBuffer(q, buf, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL) : clFinish(q);
        }
        r[round] = (now_us() - t0) / CALLS;
    }
    qsort(r, ROUNDS, sizeof *r, cmp);
    return r[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    const unsigned pi = argc > 2 ? (unsigned)atoi(argv[1]) : 0, di = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
    const int batch = argc > 3 ? atoi(argv[3]) : argc == 2 ? atoi(argv[1]) : 6;
    cl_platform_id plats[16];
    cl_device_id devs[16];
    cl_uint np = 0, nd = 0;
    cl_int err = clGetPlatformIDs(16, plats, &np);
    if (err || pi >= np)
        return fail("clGetPlatformIDs (or no such platform)", err);
    err = clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, 16, devs, &nd);
    if (err || di >= nd)
        return fail("clGetDeviceIDs (or no such device)", err);
    char name[256] = "";
    clGetDeviceInfo(devs[di], CL_DEVICE_NAME, sizeof name, name, NULL);
    cl_context ctx = clCreateContext(NULL, 1, &devs[di], NULL, NULL, &err);
    if (err)
        return fail("clCreateContext", err);
    cl_command_queue q = clCreateCommandQueue(ctx, devs[di], 0, &err);
    if (err)
        return fail("clCreateCommandQueue", err);
    const char *src = "__kernel void nothing(__global float *y) { if (get_global_id(0) == 1u) y[0] = 0.0f; }";
    cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    if (!err)
        err = clBuildProgram(prog, 1, &devs[di], "", NULL, NULL);
    if (err)
        return fail("building the empty kernel", err);
    cl_kernel kn = clCreateKernel(prog, "nothing", &err);
    if (err)
        return fail("clCreateKernel", err);
    cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &err);
    if (!err)
        err = clSetKernelArg(kn, 0, sizeof buf, &buf);
    if (err)
        return fail("the kernel's buffer", err);
    median_us(q, kn, buf, 1, 0, &err); /* warm-up */
    const double one = median_us(q, kn, buf, 1, 0, &err);
    const double many = median_us(q, kn, buf, batch, 0, &err);
    const double rd = median_us(q, kn, buf, 0, 1, &err);
    const double pred = median_us(q, kn, buf, batch, 1, &err);
    if (err)
        return fail("enqueueing", err);
    printf("{\"device\": \"%s\", \"launch_and_wait_us\": %.2f, \"launches\": %d, \"launches_then_wait_us\": %.2f, "
           "\"blocking_read_us\": %.2f, \"launches_then_read_us\": %.2f}\n",
           name, one, batch, many, rd, pred);
    clReleaseMemObject(buf);
    clReleaseKernel(kn);
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    return 0;
}
