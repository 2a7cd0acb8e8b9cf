/*
 * cfg_ports_fw_const.c - cfg_ports_fw.c with its outside port written as the
 * constant 1 instead of nf_config("wan_port", 1): the twin whose plan the
 * configured NF must get (tests/adversarial/adv_verify.sh compares them).
 */
#define CFG_CONSTANT_WAN_PORT 1
#include "cfg_ports_fw.c"
