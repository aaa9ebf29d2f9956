/*
 * The node's side of the media plane (main loop): WHIP and WHEP routes
 * (RFC 9725), the registry of streams and sessions that routes requests to
 * the worker holding a stream (every session of a stream lives on one
 * worker, chosen by hashing the stream name), GET /v1/streams, the teacher
 * and viewer pages, and the workers' SFU instances.
 */
#ifndef LEC_NODE_MEDIA_H
#define LEC_NODE_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lec_node;
typedef struct lec_media lec_media;

/* Creates the per-process DTLS certificate and each worker's engine, and
 * adds the routes (WHIP only when `whip`).  NULL on failure (logged). */
lec_media *lec_media_start(struct lec_node *node, bool whip);
/* Ends every session and frees the workers' engines (before the workers
 * stop); the rest is freed when the loop ends. */
void lec_media_close(lec_media *m);
/* Relay legs into this node (streams pulled) and out of it. */
void lec_media_leg_counts(const lec_media *m, uint32_t *in, uint32_t *out);
/* Publishers and viewers on this node. */
void lec_media_counts(const lec_media *m, unsigned *publishers, unsigned *viewers);
/* Sessions: publishers and viewers, those still connecting and the offers
 * being answered too. */
unsigned lec_media_sessions(const lec_media *m);
/* Live streams held here, for heartbeats (with their relay depth); up to max. */
struct lec_cluster_held;
size_t lec_media_held(const lec_media *m, struct lec_cluster_held *out, size_t max);
/* The relay socket's bound address (its port when relay.listen's is 0);
 * false without a cluster. */
struct lec_addr;
bool lec_media_relay_addr(const lec_media *m, struct lec_addr *out);
struct lec_relay_stats;
bool lec_media_relay_stats(const lec_media *m, struct lec_relay_stats *out);
/* Packets through the pipes between workers, those dropped, and the open
 * shards (node/shards.c). */
void lec_media_pipe_stats(const lec_media *m, uint64_t *packets, uint64_t *dropped,
                          unsigned *shards);
/* The control plane is up (cascade.c): the cascade serves RelayOpen and
 * RelayClose on the node's bus from now on. */
void lec_media_bus_ready(lec_media *m);
/* A stream started elsewhere (prewarm; cascade.c). */
struct lec_stream_event;
void lec_media_stream_event(lec_media *m, const struct lec_stream_event *ev);
/* Frees what is left once the workers have stopped. */
void lec_media_free(lec_media *m);
/* (Re)loads auth.publish_tokens_file and auth.view_tokens_file. */
int lec_media_load_tokens(lec_media *m);

#endif
