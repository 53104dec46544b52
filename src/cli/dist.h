/* clcnn train as one rank of an MPI job (docs/distributed.md): the job's
 * shape, the communicator behind the library's reducer hook, and the
 * checks every rank makes together.  dist_mpi.c is built with -Dmpi (when
 * Open MPI is found); dist_none.c, without it, is a job of one process. */
#ifndef CLCNN_CLI_DIST_H
#define CLCNN_CLI_DIST_H

#include "clcnn.h"

typedef struct cli_dist {
    int active;                 /* 1: running under mpirun, MPI initialised */
    int rank, size;             /* 0 and 1 outside mpirun */
    int local_rank, local_size; /* among the ranks on this machine */
    double reduce_seconds;      /* time in the gradient all-reduce, */
    unsigned long long steps;   /* over this many steps */
} cli_dist;

/* Joins the MPI job when the program was started by mpirun (else d is a
 * job of one process and MPI is never touched); prints the error and
 * returns non-zero on failure. */
int cli_dist_init(cli_dist *d, int *argc, char ***argv);

/* A context for device on this rank: "auto" and "opencl" take the GPU (or
 * OpenCL device) local_rank mod their count, "opencl:P:D" and "cpu" are
 * taken as given; the CPU backend gets cores / local_size threads unless
 * CLCNN_THREADS says otherwise.  Outside mpirun: cli_open_ctx. */
clcnn_ctx *cli_dist_open_ctx(cli_dist *d, const char *device);

/* Fails (on every rank, rank 0 printing why) when the ranks' training sets
 * differ in size or label fingerprint. */
int cli_dist_check_data(cli_dist *d, const clcnn_dataset *train);

/* Installs the MPI reducer on m (nothing outside mpirun). */
int cli_dist_attach(cli_dist *d, clcnn_model *m);

/* Ends this rank's part with status rc: MPI_Finalize, or MPI_Abort when rc
 * is non-zero and other ranks may be waiting on a collective.  Returns rc. */
int cli_dist_finish(cli_dist *d, int rc);

#endif
