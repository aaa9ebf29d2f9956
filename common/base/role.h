/* A node's role in the cluster; shared by config, cluster view and bus. */
#ifndef LEC_BASE_ROLE_H
#define LEC_BASE_ROLE_H

typedef enum lec_role {
    LEC_ROLE_ANY = 0, /* for loaders that accept either; "unknown" on the wire */
    LEC_ROLE_ORIGIN = 1,
    LEC_ROLE_EDGE = 2,
} lec_role;

static inline const char *lec_role_name(lec_role r)
{
    return r == LEC_ROLE_ORIGIN ? "origin" : r == LEC_ROLE_EDGE ? "edge" : "any";
}

#endif
