/* test_ui_export.c - saving a payload or body to a file (export_write_file,
 * what the detail's `s` does once the operator said where): a new file of
 * mode 0600 holding exactly the bytes (NULs included), a replaced file
 * becomes 0600 too (written beside it, then renamed: never half-written),
 * and a directory or an unwritable place is refused with the path and the
 * reason, leaving nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd_util.h"
#include "../ui/console.h"

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hd-export.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        chmod(p, 0700);
        unlink(p);
        rmdir(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int mode_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static size_t read_back(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_new_file_0600_exact_bytes(void **state)
{
    fixture *f = *state;
    char path[128], back[64];
    snprintf(path, sizeof path, "%s/body.bin", f->dir);
    static const char data[] = "a\0b\x1b[2J\n";
    hd_error err = { 0 };
    umask(0);   /* whatever the umask allows, the file is the operator's alone */
    assert_int_equal(export_write_file(path, data, sizeof data - 1, &err), HD_OK);
    umask(022);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(read_back(path, back, sizeof back), sizeof data - 1);
    assert_memory_equal(back, data, sizeof data - 1);
    assert_int_equal(entries(f->dir), 1);   /* no temporary file left */
}

static void test_replace_becomes_0600(void **state)
{
    fixture *f = *state;
    char path[128], back[64];
    snprintf(path, sizeof path, "%s/keep.txt", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("precious and longer than the new content\n", fp);
    fclose(fp);
    chmod(path, 0644);
    hd_error err = { 0 };
    assert_int_equal(export_write_file(path, "{}", 2, &err), HD_OK);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(read_back(path, back, sizeof back), 2);
    assert_memory_equal(back, "{}", 2);
}

static void test_refusals_say_where_and_why(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    assert_int_equal(export_write_file(f->dir, "x", 1, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, f->dir));
    assert_non_null(strstr(err.msg, "is a directory"));

    char locked[128], path[160];
    snprintf(locked, sizeof locked, "%s/locked", f->dir);
    assert_int_equal(mkdir(locked, 0500), 0);
    snprintf(path, sizeof path, "%s/out.json", locked);
    hd_error_clear(&err);
    if (geteuid() == 0) {   /* root writes anywhere: a missing directory instead */
        snprintf(path, sizeof path, "%s/missing/out.json", f->dir);
    }
    assert_int_equal(export_write_file(path, "x", 1, &err), HD_IO);
    assert_non_null(strstr(err.msg, "cannot save to "));
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(entries(locked), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file_0600_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_becomes_0600, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_say_where_and_why, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
