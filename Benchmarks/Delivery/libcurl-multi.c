// libcurl's own ceiling for run.sh: COUNT POSTs of BODY_FILE to URL with PARALLEL transfers in flight on one
// thread, through the multi interface (curl_multi_perform + curl_multi_poll), easy handles reused and connections
// kept alive. It sends the headers the engine sends (Content-Type and the three Standard Webhooks headers), with
// fixed values: it signs nothing, so it is the most a single libcurl thread can do with these requests.
//
// Usage: libcurl-multi URL BODY_FILE COUNT PARALLEL
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t discard(char *data, size_t size, size_t count, void *user) {
    (void)data;
    (void)user;
    return size * count;
}

static char *read_file(const char *path, long *length) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    *length = ftell(file);
    rewind(file);
    char *bytes = malloc((size_t)*length + 1);
    if (bytes && fread(bytes, 1, (size_t)*length, file) != (size_t)*length) {
        free(bytes);
        bytes = NULL;
    }
    fclose(file);
    return bytes;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: libcurl-multi URL BODY_FILE COUNT PARALLEL\n");
        return 64;
    }
    const char *url = argv[1];
    long length = 0;
    char *body = read_file(argv[2], &length);
    long count = atol(argv[3]);
    int parallel = atoi(argv[4]);
    if (!body || count < 1 || parallel < 1) {
        fprintf(stderr, "libcurl-multi: cannot read %s, or a bad COUNT or PARALLEL\n", argv[2]);
        return 64;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)parallel * 2);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    headers = curl_slist_append(headers, "webhook-timestamp: 1795432530");
    headers = curl_slist_append(headers, "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    headers = curl_slist_append(headers, "Expect:");

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long started = 0, finished = 0, failed = 0;
    for (int i = 0; i < parallel && started < count; i++, started++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, length);
        curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body);
        curl_multi_add_handle(multi, easy);
    }
    while (finished < count) {
        int running = 0, left = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        while ((message = curl_multi_info_read(multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *easy = message->easy_handle;
            long status = 0;
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
            if (message->data.result != CURLE_OK || status / 100 != 2) failed++;
            finished++;
            curl_multi_remove_handle(multi, easy);
            if (started < count) {
                // The same request again on the same handle: the body is copied as the engine copies it.
                curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body);
                curl_multi_add_handle(multi, easy);
                started++;
            } else {
                curl_easy_cleanup(easy);
            }
        }
        if (finished < count) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("libcurl multi in C, %d in flight on one thread: %ld ok, %ld failed in %.2f s = %.0f/s\n", parallel,
           finished - failed, failed, seconds, (double)(finished - failed) / seconds);
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);
    free(body);
    return failed == 0 ? 0 : 1;
}
