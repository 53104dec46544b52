/* A build without MPI: every run is a job of one process.  Under mpirun
 * that would be N independent runs writing the same files, so it refuses. */
#include <stdlib.h>

#include "common.h"
#include "dist.h"

int cli_dist_init(cli_dist *d, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    *d = (cli_dist){.size = 1, .local_size = 1};
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (n && atoi(n) > 1)
        return cli_fail("this clcnn was built without MPI (meson -Dmpi=disabled or no Open MPI found); under "
                        "mpirun -n %s it would train %s separate models",
                        n, n);
    return 0;
}

clcnn_ctx *cli_dist_open_ctx(cli_dist *d, const char *device)
{
    (void)d;
    return cli_open_ctx(device);
}

int cli_dist_check_data(cli_dist *d, const clcnn_dataset *train)
{
    (void)d, (void)train;
    return 0;
}

int cli_dist_attach(cli_dist *d, clcnn_model *m)
{
    (void)d, (void)m;
    return 0;
}

int cli_dist_finish(cli_dist *d, int rc)
{
    (void)d;
    return rc;
}
