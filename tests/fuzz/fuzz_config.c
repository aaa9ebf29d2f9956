/* libFuzzer: the YAML config loader must reject anything bad with an error,
 * never a crash, a hang or a leak. */
#include "config/config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lec_sbuf errs;
    lec_sbuf_init(&errs, NULL);
    lec_config *cfg = NULL;
    if (lec_config_load_string("fuzz.yaml", (const char *)data, size, LEC_ROLE_ANY, &cfg, &errs) ==
        0) {
        lec_sbuf dump;
        lec_sbuf_init(&dump, NULL);
        lec_config_dump(cfg, &dump);
        lec_sbuf_free(&dump);
        lec_config *def = NULL;
        if (lec_config_default(cfg->node.role, &def) == 0) {
            lec_config_diff(def, cfg, NULL, NULL);
            lec_config_free(def);
        }
        lec_config_free(cfg);
    }
    lec_sbuf_free(&errs);
    return 0;
}
