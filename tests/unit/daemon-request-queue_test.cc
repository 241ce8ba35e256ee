#include "daemon/request-queue.h"

#include <gtest/gtest.h>

using namespace kmx;

TEST(RequestQueue, MergesWaitingDuplicatesInFirstSeenOrder) {
  RequestQueue q;
  EXPECT_TRUE(q.push("a", "uevent"));
  EXPECT_TRUE(q.push("b", "uevent"));
  EXPECT_FALSE(q.push("a", "uevent"));
  EXPECT_FALSE(q.push("a", "coldplug"));
  EXPECT_EQ(q.waiting(), 2u);
  auto r = q.pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->alias, "a");
  EXPECT_EQ(r->source, "uevent");
  EXPECT_EQ(r->requests, 3);
  EXPECT_EQ(q.pop()->alias, "b");
  EXPECT_FALSE(q.pop());
  EXPECT_EQ(q.counters().pushed, 4);
  EXPECT_EQ(q.counters().merged, 2);
}

TEST(RequestQueue, InFlightAbsorbsRequestsUntilFinished) {
  RequestQueue q;
  q.push("a", "uevent");
  auto r = q.pop();
  ASSERT_TRUE(r);
  EXPECT_FALSE(q.push("a", "uevent"));  // being loaded: merged, not queued again
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_EQ(q.in_flight(), 1u);
  EXPECT_EQ(q.finish("a"), 2);
  EXPECT_TRUE(q.idle());
  EXPECT_TRUE(q.push("a", "uevent"));  // a later request is a new one (the module may be gone)
  EXPECT_EQ(q.finish("nothing"), 0);
}

TEST(RequestQueue, EveryRequestIsAccountedFor) {
  RequestQueue q;
  i64 sent = 0;
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 200; i++, sent++) q.push("alias" + std::to_string((i * 7 + round) % 37), "uevent");
    while (auto r = q.pop()) {
      if (round % 3 == 0) q.push(r->alias, "uevent"), sent++;  // arrives while in flight
      q.finish(r->alias);
    }
  }
  EXPECT_TRUE(q.idle());
  EXPECT_EQ(q.counters().pushed, sent);
  EXPECT_EQ(q.counters().done, sent);
}
