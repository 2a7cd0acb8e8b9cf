/*
 * main.c - the entry point of an NF's runner: the NF's object file linked
 * with rsskey_launcher and rsskey_runtime (rsskey-run-<nf> for the reference
 * NFs).
 */
#include "launcher/launcher.h"

int main(int argc, char **argv)
{
    return launcher_main(argc, argv);
}
