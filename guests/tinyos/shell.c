/* tinyos shell: a line editor on the interrupt-driven console (backspace,
 * Ctrl-U, Ctrl-C, up/down history) and the command table. A kernel exception
 * during a command is reported and ends that command, not the OS. */
#include "kernel.h"

#define PROMPT "tinyos> "
#define LINE_MAX 128
#define HISTORY 8
#define MAX_ARGS 8
#define KEY_CTRL_C 0x03
#define KEY_BS 0x08
#define KEY_CTRL_U 0x15
#define KEY_ESC 0x1B
#define KEY_DEL 0x7F

static void cmd_help(int argc, char **argv);

struct command {
    const char *name, *args, *help;
    void (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    { "help", "", "this list", cmd_help },
    { "info", "", "CPUID vendor and features, mode, memory map, timer, TSC frequency, ACPI", cmd_info },
    { "bench", "[k]", "ALU, paged load/add/store and call/ret loops (k thousand times) timed with the TSC", cmd_bench },
    { "pf", "", "touch an unmapped page: the #PF handler maps it and the write completes", cmd_pf },
    { "aspace", "[n] [rounds]", "switch between n address spaces, touching, remapping and unmapping pages", cmd_aspace },
    { "smp", "[k]", "start the other CPUs (INIT-SIPI-SIPI), k thousand LOCK INCs on each, an IPI each; per-CPU counts", cmd_smp },
    { "user", "[fault]", "drop to ring 3 and make system calls with SYSCALL (fault: HLT in ring 3)", cmd_user },
    { "io", "", "10000 reads of an I/O port, timed, to show what a port access costs", cmd_io },
    { "ticks", "", "count timer interrupts over about one second", cmd_ticks },
    { "fault", "de|ud|gp|bp|pf|df", "raise an exception in the kernel and report it", cmd_fault },
    { "poweroff", "[code]", "write code to isa-debug-exit (exit status code*2+1), then ACPI S5", cmd_poweroff },
    { "reboot", "", "pulse the reset line through the i8042 (0xFE to port 0x64)", cmd_reboot },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void cmd_help(int argc, char **argv) {
    (void)argc, (void)argv;
    kputs("commands:\n");
    for (unsigned i = 0; i < NCOMMANDS; i++) {
        char left[32];
        size_t n = strlen(commands[i].name);
        memcpy(left, commands[i].name, n);
        if (commands[i].args[0]) {
            left[n++] = ' ';
            size_t a = strlen(commands[i].args);
            memcpy(left + n, commands[i].args, a);
            n += a;
        }
        left[n] = 0;
        kprintf("  %-24s %s\n", left, commands[i].help);
    }
    kputs("line editing: Backspace, Ctrl-U (erase line), Ctrl-C (cancel), Up/Down (history)\n");
}

static char history[HISTORY][LINE_MAX];
static int history_count;
static int after_cr; /* swallow the LF of a CR LF pair */

static void erase(int n) {
    while (n--) kputs("\b \b");
}

/* Reads one line into buf; returns its length, or -1 when cancelled. */
static int read_line(char *buf) {
    int len = 0, esc = 0, hist = history_count;
    for (;;) {
        int c = serial_getc();
        if (esc == 1) { /* ESC seen: CSI sequences start with '[' */
            esc = c == '[' ? 2 : 0;
            continue;
        }
        if (esc == 2) {
            if (c >= 0x40 && c <= 0x7E) { /* final byte */
                esc = 0;
                int to = c == 'A' ? hist - 1 : c == 'B' ? hist + 1 : hist;
                if (to != hist && to >= 0 && to <= history_count && history_count - to <= HISTORY) {
                    hist = to;
                    erase(len);
                    const char *h = hist == history_count ? "" : history[hist % HISTORY];
                    len = (int)strlen(h);
                    memcpy(buf, h, (size_t)len);
                    buf[len] = 0;
                    kputs(buf);
                }
            }
            continue;
        }
        if (c == '\n' && after_cr) {
            after_cr = 0;
            continue;
        }
        after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            kputs("\n");
            buf[len] = 0;
            return len;
        }
        if (c == KEY_ESC) esc = 1;
        else if (c == KEY_DEL || c == KEY_BS) {
            if (len) len--, erase(1);
        } else if (c == KEY_CTRL_U) {
            erase(len);
            len = 0;
        } else if (c == KEY_CTRL_C) {
            kputs("^C\n");
            return -1;
        } else if (c >= 0x20 && c < 0x7F && len < LINE_MAX - 1) {
            buf[len++] = (char)c;
            serial_putc((char)c);
        }
    }
}

static int split(char *line, char **argv) {
    int argc = 0;
    for (char *p = line; *p && argc < MAX_ARGS;) {
        while (*p == ' ') *p++ = 0;
        if (!*p) break;
        argv[argc++] = p;
        while (*p && *p != ' ') p++;
    }
    return argc;
}

void shell_run(void) {
    static char line[LINE_MAX], copy[LINE_MAX];
    for (;;) {
        kputs(PROMPT);
        int len = read_line(line);
        if (len <= 0) continue;
        if (!history_count || strcmp(history[(history_count - 1) % HISTORY], line))
            memcpy(history[history_count++ % HISTORY], line, (size_t)len + 1);
        memcpy(copy, line, (size_t)len + 1);
        char *argv[MAX_ARGS];
        int argc = split(copy, argv);
        if (!argc) continue;
        const struct command *cmd = 0;
        for (unsigned i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[0], commands[i].name)) cmd = &commands[i];
        if (!cmd) {
            kprintf("unknown command '%s'; type 'help' for the list\n", argv[0]);
            continue;
        }
        if (kjmp_save(trap_recover) == 0) {
            trap_recover_armed = 1;
            cmd->run(argc, argv);
        }
        trap_recover_armed = 0;
        sti();
    }
}
