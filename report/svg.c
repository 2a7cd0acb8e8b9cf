/*
 * svg.c - the report's pictures, drawn as inline SVG: the state graph (ports
 * on the left, objects on the right, one edge per port and object labelled
 * with R/W and the key, coloured by decision, groups boxed, a legend), the
 * per-core load bars, the cycles-per-packet bars by cause, and the scaling
 * curve with its linear target. Every picture has a fixed 960-unit wide
 * viewBox and scales to the page; text is never smaller than 11 units.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_internal.h"

#define W 960

const char *report_decision_colour(enum deps_decision d)
{
    return d == DEPS_SHARDED ? "#2e7d32" : d == DEPS_REPLICATED ? "#1565c0" : "#c62828";
}

static void svg_begin(struct text *t, int height, const char *title)
{
    report_addf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                   "width=\"100%%\" role=\"img\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
                   "font-size=\"12\"><title>", W, height);
    report_add_html(t, title);
    report_addf(t, "</title>\n");
}

/* Text, shortened with an ellipsis to at most max characters. */
static void svg_text(struct text *t, double x, double y, const char *attrs, const char *s,
                     size_t max)
{
    char buf[256];
    size_t n = strlen(s);
    if (max >= sizeof buf)
        max = sizeof buf - 1;
    if (n > max) {
        snprintf(buf, sizeof buf, "%.*s...", (int)(max - 3), s);
        s = buf;
    }
    report_addf(t, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
    report_add_html(t, s);
    report_addf(t, "</text>\n");
}

/* ---- State graph ------------------------------------------------------- */

#define PORT_X 10
#define PORT_W 120
#define LABEL_X 350
#define OBJ_X 700
#define OBJ_W 250
#define SLOT 24
#define GAP 14

struct edge {
    bool reads, writes;
    const struct deps_key *key;     /* sharding key, else the first keyed access */
};

static bool op_writes(enum deps_op op)
{
    return op != DEPS_OP_READ;
}

static void collect_edges(const struct deps_plan *d, int obj, struct edge e[DEPS_MAX_PORTS])
{
    memset(e, 0, sizeof(struct edge) * DEPS_MAX_PORTS);
    for (int a = 0; a < d->n_accesses; a++) {
        const struct deps_access *x = &d->accesses[a];
        if (x->object != obj || x->port < 0 || x->port >= DEPS_MAX_PORTS)
            continue;
        struct edge *ed = &e[x->port];
        if (op_writes(x->op))
            ed->writes = true;
        else
            ed->reads = true;
        if (!ed->key && x->key.count > 0)
            ed->key = &x->key;
    }
    const struct deps_object *o = &d->objects[obj];
    for (int p = 0; p < DEPS_MAX_PORTS; p++)
        if (o->decision == DEPS_SHARDED && o->ports[p].count > 0)
            e[p].key = &o->ports[p];
}

static int edge_count(const struct edge e[DEPS_MAX_PORTS], int n_ports)
{
    int n = 0;
    for (int p = 0; p < n_ports; p++)
        n += e[p].reads || e[p].writes;
    return n;
}

static bool group_has_many(const struct deps_plan *d, int obj)
{
    for (int j = 0; j < d->n_objects; j++)
        if (j != obj && d->objects[j].group == d->objects[obj].group)
            return true;
    return false;
}

static bool first_of_group(const struct deps_plan *d, int obj)
{
    return obj == 0 || d->objects[obj - 1].group != d->objects[obj].group;
}

static bool last_of_group(const struct deps_plan *d, int obj)
{
    return obj + 1 == d->n_objects || d->objects[obj + 1].group != d->objects[obj].group;
}

static int object_height(int slots)
{
    int h = SLOT * (slots ? slots : 1) + 16;
    return h < 48 ? 48 : h;
}

static void draw_legend(struct text *t, int y)
{
    const enum deps_decision ds[3] = {DEPS_SHARDED, DEPS_REPLICATED, DEPS_SHARED};
    const char *what[3] = {"sharded: one copy per core, RSS splits by key",
                           "replicated: read-only, one copy per core",
                           "shared: one copy under per-core read locks"};
    for (int i = 0; i < 3; i++) {
        int x = 10 + i * 316;
        report_addf(t, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", x,
                    y, report_decision_colour(ds[i]));
        svg_text(t, x + 20, y + 12, "font-size=\"11\"", what[i], 60);
    }
    svg_text(t, 10, y + 34, "font-size=\"11\" fill=\"#333\"",
             "Edge label: input port, R = reads, W = writes (put, erase, allocate, refresh, "
             "free, expire), then the key its packets reach the object with.", 160);
    report_addf(t, "<rect x=\"10\" y=\"%d\" width=\"26\" height=\"12\" fill=\"none\" "
                   "stroke=\"#777\" stroke-dasharray=\"4 3\"/>\n", y + 44);
    svg_text(t, 42, y + 55, "font-size=\"11\" fill=\"#333\"",
             "dashed box: a group, objects partitioned together (a flow table's map, "
             "allocator and vectors)", 160);
}

void svg_state_graph(struct text *t, const struct rss_plan *plan)
{
    const struct deps_plan *d = &plan->deps;
    int n_ports = d->n_ports < DEPS_MAX_PORTS ? d->n_ports : DEPS_MAX_PORTS;
    /* Vertical layout of the objects first: it sets the height. */
    int y = 10, tops[256];
    int n_obj = d->n_objects < 256 ? d->n_objects : 256;
    struct edge e[DEPS_MAX_PORTS];
    for (int i = 0; i < n_obj; i++) {
        bool boxed = group_has_many(d, i);
        if (boxed && first_of_group(d, i))
            y += 18;                    /* the group's caption */
        tops[i] = y;
        collect_edges(d, i, e);
        y += object_height(edge_count(e, n_ports)) + GAP;
        if (boxed && last_of_group(d, i))
            y += 8;
    }
    int ports_h = n_ports * 70 + 10;
    int body = y > ports_h ? y : ports_h;
    if (n_obj == 0)
        body = ports_h > 60 ? ports_h : 60;
    svg_begin(t, body + 70, "State graph: input ports, state objects and the keys between them");
    /* Ports, spread over the body's height. */
    double port_y[DEPS_MAX_PORTS];
    for (int p = 0; p < n_ports; p++) {
        port_y[p] = body * (p + 0.5) / n_ports;
        report_addf(t, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"40\" rx=\"6\" "
                       "fill=\"#eceff1\" stroke=\"#455a64\"/>\n", PORT_X, port_y[p] - 20, PORT_W);
        char label[32];
        snprintf(label, sizeof label, "input port %d", p);
        svg_text(t, PORT_X + PORT_W / 2.0, port_y[p] + 4,
                 "text-anchor=\"middle\" font-weight=\"bold\"", label, 20);
    }
    if (n_obj == 0)
        svg_text(t, OBJ_X - 200, body / 2.0, "font-style=\"italic\"",
                 "no state: any RSS key and table preserve what the NF does", 80);
    for (int i = 0; i < n_obj; i++) {
        const struct deps_object *o = &d->objects[i];
        const char *colour = report_decision_colour(o->decision);
        collect_edges(d, i, e);
        int slots = edge_count(e, n_ports);
        int h = object_height(slots);
        if (group_has_many(d, i) && first_of_group(d, i)) {
            int j = i, bottom;
            while (!last_of_group(d, j))
                j++;
            struct edge ej[DEPS_MAX_PORTS];
            collect_edges(d, j, ej);
            bottom = tops[j] + object_height(edge_count(ej, n_ports));
            report_addf(t, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\" "
                           "fill=\"none\" stroke=\"#777\" stroke-dasharray=\"5 4\"/>\n",
                        OBJ_X - 8, tops[i] - 18, OBJ_W + 16, bottom - tops[i] + 26);
            char cap[48];
            snprintf(cap, sizeof cap, "group %d", o->group);
            svg_text(t, OBJ_X, tops[i] - 5, "font-size=\"11\" fill=\"#555\"", cap, 40);
        }
        report_addf(t, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" "
                       "fill=\"#fff\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                    OBJ_X, tops[i], OBJ_W, h, colour);
        report_addf(t, "<rect x=\"%d\" y=\"%d\" width=\"8\" height=\"%d\" fill=\"%s\"/>\n",
                    OBJ_X, tops[i], h, colour);
        svg_text(t, OBJ_X + 16, tops[i] + h / 2.0 - 3, "font-weight=\"bold\"", o->name, 30);
        char sub[96];
        snprintf(sub, sizeof sub, "%s, %s", deps_kind_name(o->kind),
                 deps_decision_name(o->decision));
        svg_text(t, OBJ_X + 16, tops[i] + h / 2.0 + 13,
                 "font-size=\"11\" fill=\"#444\"", sub, 36);
        /* Edges enter the box's left side at evenly spaced slots. */
        int k = 0;
        for (int p = 0; p < n_ports; p++) {
            if (!e[p].reads && !e[p].writes)
                continue;
            double sy = tops[i] + (h - SLOT * slots) / 2.0 + SLOT * (k++ + 0.5) + 5;
            double mx = (PORT_X + PORT_W + LABEL_X) / 2.0;
            report_addf(t, "<path d=\"M %d %.1f C %.1f %.1f %.1f %.1f %d %.1f L %d %.1f\" "
                           "fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"/>\n",
                        PORT_X + PORT_W, port_y[p], mx, port_y[p], mx, sy, LABEL_X, sy, OBJ_X,
                        sy, colour);
            char keybuf[DEPS_MAX_KEY_FIELDS * 24], label[300];
            const char *key = e[p].key ? deps_key_format(e[p].key, keybuf, sizeof keybuf)
                                       : "(whole object, or an index read from state)";
            snprintf(label, sizeof label, "port %d  %s%s%s  %s", p, e[p].reads ? "R" : "",
                     e[p].reads && e[p].writes ? "/" : "", e[p].writes ? "W" : "", key);
            svg_text(t, LABEL_X + 4, sy - 5, "font-size=\"11\"", label, 62);
        }
    }
    draw_legend(t, body + 4);
    report_addf(t, "</svg>\n");
}

/* ---- Per-core load ------------------------------------------------------ */

void svg_load_bars(struct text *t, const struct util_jvalue *sim)
{
    const struct util_jvalue *cores = report_array(sim, "cores");
    if (!cores)
        return;
    double most = 0, total = 0;
    for (size_t i = 0; i < cores->count; i++) {
        double n = report_num(&cores->items[i], "packets");
        most = n > most ? n : most;
        total += n;
    }
    int rows = (int)cores->count, h = rows * 30 + 40;
    svg_begin(t, h, "Packets per core, and how busy each core was");
    const int x0 = 80, bw = 500;
    double mean = total / rows;
    for (int i = 0; i < rows; i++) {
        const struct util_jvalue *c = &cores->items[i];
        double n = report_num(c, "packets"), y = 10 + i * 30;
        double len = most > 0 ? bw * n / most : 0;
        char label[160];
        snprintf(label, sizeof label, "core %.0f", report_num(c, "core"));
        svg_text(t, 10, y + 15, "", label, 20);
        report_addf(t, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"20\" fill=\"#eee\"/>\n"
                       "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"20\" "
                       "fill=\"#1976d2\"/>\n", x0, y, bw, x0, y, len);
        snprintf(label, sizeof label, "%.0f packets (%.1f%%), busy %.1f%%, %.0f cycles/packet",
                 n, total > 0 ? 100 * n / total : 0, 100 * report_num(c, "busy_share"),
                 report_num(c, "cycles_per_packet"));
        svg_text(t, x0 + bw + 8, y + 15, "font-size=\"11\"", label, 70);
    }
    if (most > 0) {
        double mx = x0 + bw * mean / most;
        report_addf(t, "<line x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" "
                       "stroke-dasharray=\"4 3\"/>\n", mx, mx, rows * 30 + 12);
        svg_text(t, mx, rows * 30 + 26, "text-anchor=\"middle\" font-size=\"11\"",
                 "mean", 10);
    }
    report_addf(t, "</svg>\n");
}

/* ---- Cycles per packet by cause ------------------------------------------ */

void svg_cycle_bars(struct text *t, const struct util_jvalue *sim)
{
    static const char *keys[] = {"base", "state", "l2_hit", "llc_hit", "dram",
                                 "coherence", "lock", "lock_wait"};
    static const char *names[] = {"base", "state", "L2 hit", "LLC hit", "DRAM",
                                  "coherence", "lock", "lock wait"};
    static const char *colours[] = {"#90a4ae", "#66bb6a", "#ffee58", "#ffa726", "#ef5350",
                                    "#ab47bc", "#5c6bc0", "#8d6e63"};
    const struct util_jvalue *cores = report_array(sim, "cores");
    if (!cores)
        return;
    double most = 0;
    for (size_t i = 0; i < cores->count; i++) {
        const struct util_jvalue *b = util_jobject_get(&cores->items[i], "cycles_breakdown");
        double sum = 0;
        for (int k = 0; k < 8; k++)
            sum += report_num(b, keys[k]);
        most = sum > most ? sum : most;
    }
    int rows = (int)cores->count, h = rows * 30 + 44;
    svg_begin(t, h, "Cycles per packet on each core, by cause");
    const int x0 = 80, bw = 700;
    for (int i = 0; i < rows; i++) {
        const struct util_jvalue *c = &cores->items[i];
        const struct util_jvalue *b = util_jobject_get(c, "cycles_breakdown");
        double y = 6 + i * 30, x = x0, sum = 0;
        char label[64];
        snprintf(label, sizeof label, "core %.0f", report_num(c, "core"));
        svg_text(t, 10, y + 15, "", label, 20);
        for (int k = 0; k < 8; k++) {
            double v = report_num(b, keys[k]), w = most > 0 ? bw * v / most : 0;
            sum += v;
            if (w <= 0)
                continue;
            report_addf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" "
                           "fill=\"%s\"><title>%s: %.1f</title></rect>\n", x, y, w,
                        colours[k], names[k], v);
            x += w;
        }
        snprintf(label, sizeof label, "%.0f", sum);
        svg_text(t, x + 6, y + 15, "font-size=\"11\"", label, 20);
    }
    for (int k = 0; k < 8; k++) {
        int x = 10 + k * 118, y = rows * 30 + 20;
        report_addf(t, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x,
                    y, colours[k]);
        svg_text(t, x + 16, y + 11, "font-size=\"11\"", names[k], 20);
    }
    report_addf(t, "</svg>\n");
}

/* ---- Scaling curve -------------------------------------------------------- */

void svg_scaling(struct text *t, const struct util_jvalue *sim)
{
    const struct util_jvalue *rows = report_array(sim, "scaling");
    if (!rows)
        return;
    int n = (int)rows->count;
    double one = report_num(&rows->items[0], "mlffr_mpps"), top = 0;
    for (int i = 0; i < n; i++) {
        double v = report_num(&rows->items[i], "mlffr_mpps");
        double target = one * report_num(&rows->items[i], "cores");
        top = fmax(top, fmax(v, target));
    }
    if (top <= 0)
        top = 1;
    /* A round axis maximum: 1, 2 or 5 times a power of ten. */
    double step = pow(10, floor(log10(top / 5)));
    step *= top / step > 25 ? 10 : top / step > 10 ? 5 : top / step > 5 ? 2 : 1;
    top = ceil(top / step) * step;
    const int h = 362, left = 70, right = 930, y0 = 290, y1 = 20;
    svg_begin(t, h, "MLFFR against cores, with linear scaling from one core as the target");
    double maxc = report_num(&rows->items[n - 1], "cores");
    double minc = report_num(&rows->items[0], "cores");
#define X(c) (maxc > minc ? left + (right - left) * ((c) - minc) / (maxc - minc) \
                          : (left + right) / 2.0)
#define Y(v) (y0 - (y0 - y1) * (v) / top)
    for (double v = 0; v <= top + step / 2; v += step) {
        char label[32];
        snprintf(label, sizeof label, "%.4g", v);
        report_addf(t, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                    left, Y(v), right, Y(v));
        svg_text(t, left - 6, Y(v) + 4, "text-anchor=\"end\" font-size=\"11\"", label, 12);
    }
    report_addf(t, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n"
                   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
                left, y0, right, y0, left, y0, left, y1);
    svg_text(t, 14, (y0 + y1) / 2.0, "transform=\"rotate(-90 14 155)\" text-anchor=\"middle\" "
             "font-size=\"11\"", "MLFFR (Mpps)", 20);
    svg_text(t, (left + right) / 2.0, y0 + 36, "text-anchor=\"middle\" font-size=\"11\"",
             "cores", 10);
    /* The target: linear scaling from one core. */
    report_addf(t, "<polyline fill=\"none\" stroke=\"#9e9e9e\" stroke-width=\"2\" "
                   "stroke-dasharray=\"6 4\" points=\"");
    for (int i = 0; i < n; i++) {
        double c = report_num(&rows->items[i], "cores");
        report_addf(t, "%.1f,%.1f ", X(c), Y(fmin(one * c, top)));
    }
    report_addf(t, "\"/>\n<polyline fill=\"none\" stroke=\"#1976d2\" stroke-width=\"2.5\" "
                   "points=\"");
    for (int i = 0; i < n; i++) {
        const struct util_jvalue *r = &rows->items[i];
        report_addf(t, "%.1f,%.1f ", X(report_num(r, "cores")),
                    Y(report_num(r, "mlffr_mpps")));
    }
    report_addf(t, "\"/>\n");
    for (int i = 0; i < n; i++) {
        const struct util_jvalue *r = &rows->items[i];
        double c = report_num(r, "cores"), v = report_num(r, "mlffr_mpps");
        char label[32];
        report_addf(t, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#1976d2\"/>\n", X(c),
                    Y(v));
        snprintf(label, sizeof label, "%.3f", v);
        svg_text(t, X(c), Y(v) - 9, "text-anchor=\"middle\" font-size=\"11\"", label, 12);
        snprintf(label, sizeof label, "%.0f", c);
        svg_text(t, X(c), y0 + 18, "text-anchor=\"middle\" font-size=\"11\"", label, 6);
    }
#undef X
#undef Y
    report_addf(t, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#1976d2\" "
                   "stroke-width=\"2.5\"/>\n", left + 20, h - 12, left + 50, h - 12);
    svg_text(t, left + 56, h - 8, "font-size=\"11\"", "simulated MLFFR", 20);
    report_addf(t, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9e9e9e\" "
                   "stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n", left + 200, h - 12,
                left + 230, h - 12);
    svg_text(t, left + 236, h - 8, "font-size=\"11\"",
             "target: linear scaling from one core", 40);
    report_addf(t, "</svg>\n");
}
