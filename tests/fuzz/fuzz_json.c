/* fuzz_json.c - the JSON reader every file format of the project uses. */
#include "tests/fuzz/fuzz_input.h"

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct util_error err;
    struct util_jvalue *v = util_json_parse((const char *)data, size, "input", &err);
    util_jvalue_free(v);
    return 0;
}
