/* test_store_alloc.c - the allocator the store gives SQLite
 * (src/store_alloc.c), called directly: sizes, reuse, realloc across size
 * classes, the bounds on what a thread keeps, and that a thread's blocks
 * go when it exits (LeakSanitizer would report them otherwise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "store_debug.h"

static const sqlite3_mem_methods *mm(void)
{
    return store_debug_alloc_methods();
}

static void test_sizes_round_up(void **state)
{
    (void)state;
    assert_int_equal(mm()->xRoundup(1), 16);
    assert_int_equal(mm()->xRoundup(16), 16);
    assert_int_equal(mm()->xRoundup(17), 32);
    assert_int_equal(mm()->xRoundup(1024), 1024);
    assert_int_equal(mm()->xRoundup(1025), 1032);   /* past the classes: 8-byte steps */
    for (int n = 1; n < 3000; n += 37) {
        unsigned char *p = mm()->xMalloc(n);
        assert_non_null(p);
        assert_true(mm()->xSize(p) >= n);
        assert_int_equal(mm()->xSize(p), mm()->xRoundup(n));
        assert_int_equal((uintptr_t)p % 8, 0);      /* SQLite needs 8-byte alignment */
        memset(p, 0xab, (size_t)mm()->xSize(p));
        mm()->xFree(p);
    }
    mm()->xFree(NULL);
}

static void test_freed_block_is_reused(void **state)
{
    (void)state;
    void *a = mm()->xMalloc(200);
    mm()->xFree(a);
    size_t kept = store_debug_alloc_kept();
    assert_true(kept >= 208);
    void *b = mm()->xMalloc(193);    /* same class (208) */
    assert_ptr_equal(a, b);
    assert_int_equal(store_debug_alloc_kept(), kept - 208);
    void *c = mm()->xMalloc(2000);   /* no class: never kept */
    mm()->xFree(c);
    assert_int_equal(store_debug_alloc_kept(), kept - 208);
    mm()->xFree(b);
}

static void test_realloc_keeps_content(void **state)
{
    (void)state;
    unsigned char *p = mm()->xMalloc(10);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    assert_ptr_equal(mm()->xRealloc(p, 12), p);   /* same class: in place */
    static const int sizes[] = { 100, 1024, 5000, 70000, 3000, 600, 10 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        p = mm()->xRealloc(p, sizes[k]);
        assert_non_null(p);
        assert_int_equal(mm()->xSize(p), mm()->xRoundup(sizes[k]));
        for (int i = 0; i < 10; i++)
            assert_int_equal(p[i], i);
    }
    mm()->xFree(p);
}

/* A thread keeps at most 128 blocks of a class: 300 freed, 128 kept. */
static void test_lists_are_bounded(void **state)
{
    (void)state;
    enum { N = 300 };
    void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = mm()->xMalloc(48);   /* takes every kept 48-byte block first */
    size_t mid = store_debug_alloc_kept();
    for (int i = 0; i < N; i++)
        mm()->xFree(p[i]);
    assert_int_equal(store_debug_alloc_kept() - mid, 128 * 48);
    /* and at most 512 KiB in all */
    void *big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = mm()->xMalloc(1000 + (i % 20));   /* the top classes */
    for (int i = 0; i < 1000; i++)
        mm()->xFree(big[i]);
    assert_true(store_debug_alloc_kept() <= 512 * 1024);
}

static void *churn(void *arg)
{
    (void)arg;
    void *p[64];
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 64; i++)
            p[i] = mm()->xMalloc(16 + (i * 16) % 1000);
        for (int i = 0; i < 64; i++)
            mm()->xFree(p[i]);
    }
    return (void *)store_debug_alloc_kept();
}

/* Threads keep their own lists, and give them back when they exit. */
static void test_threads_own_lists(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *kept = NULL;
        assert_int_equal(pthread_join(t[i], &kept), 0);
        assert_true((size_t)kept > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_round_up),
        cmocka_unit_test(test_freed_block_is_reused),
        cmocka_unit_test(test_realloc_keeps_content),
        cmocka_unit_test(test_lists_are_bounded),
        cmocka_unit_test(test_threads_own_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
