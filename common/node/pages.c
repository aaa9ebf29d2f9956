/*
 * The pages every node serves (media.h): the viewer page, the teacher's
 * page and their script, compiled into the binary from web/.
 */
#include "node/media_int.h"

#include <stdio.h>
#include <string.h>

typedef struct web_asset {
    const char *path;
    const char *type;
    const unsigned char *data;
    size_t len;
} web_asset;

extern const web_asset lec_web_assets[];
extern const size_t lec_web_nassets;

static void serve(lec_http_ex *ex, const char *path)
{
    for (size_t i = 0; i < lec_web_nassets; i++) {
        if (strcmp(lec_web_assets[i].path, path))
            continue;
        ex->resp.status = 200;
        snprintf(ex->resp.content_type, sizeof ex->resp.content_type, "%s", lec_web_assets[i].type);
        lec_sbuf_append(&ex->resp.body, lec_web_assets[i].data, lec_web_assets[i].len);
        lec_http_resp_header(&ex->resp, "Cache-Control", "no-cache");
        lec_http_ex_finish(ex);
        return;
    }
    lec_http_resp_error(&ex->resp, 404, "no such page");
    lec_http_ex_finish(ex);
}

void lec__media_page_viewer(lec_http_ex *ex)
{
    serve(ex, "index.html");
}

void lec__media_page_publish(lec_http_ex *ex)
{
    serve(ex, "publish.html");
}

void lec__media_page_static(lec_http_ex *ex)
{
    serve(ex, lec_http_req_param(ex->req, "file"));
}
