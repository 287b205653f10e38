/* The rheasim command line. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "usage: rheasim run|check-history|bench ...\n");
    return 64;
}
