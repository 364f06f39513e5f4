// SPDX-License-Identifier: Apache-2.0
// The mixed load of the high-availability tests (issue 15) and what it checks: sign-ins,
// refreshes, revocations and token validations spread over two server instances while a database
// or cache fails over underneath.
#pragma once

#include "LoadClient.h"

#include <QList>
#include <QUrl>
#include <memory>
#include <vector>

namespace ehrs::test {

class ServerProcess;

/// A server instance of the HA tests (not started): these URLs, 2 workers, limits out of the
/// load's way, no cleanup job.
std::unique_ptr<ServerProcess> haServer(const QString& databaseUrl, const QString& redisUrl);

struct HaSession
{
    QByteArray id;
    QByteArray access;
    QByteArray refresh;
    qint64 ackUs = 0; // when the server acknowledged this pair (sign-in or rotation)
};

/// Counts of what went right and wrong, by the rules of issue 15.
struct HaVerdict
{
    int requests = 0;
    int unavailable = 0; // 503 with Retry-After: allowed while failing over
    int unavailableNoRetryAfter = 0;
    int serverErrors = 0;    // 500 and other 5xx
    int noAnswer = 0;        // timed out or connection dropped
    int forcedSignOuts = 0;  // a refresh of the latest acknowledged token refused with 401
    int revokedAccepted = 0; // a revoked access token accepted (any 2xx or the validation 400)
    int revokedChecks = 0;
    int staleAccess = 0; // a live session's access token replaced by a rotation in flight
    int unexpected = 0;  // any other status where none was expected
    QStringList notes;   // one line per problem, for the failure message
};

/// The load: `signIns` clients signing in, `refreshers` sessions refreshing in a loop, one client
/// revoking sessions signed in by the others, `validators` clients validating live tokens and one
/// validating revoked ones. Clients alternate between the instances.
class HaLoad
{
public:
    HaLoad(QList<QUrl> instances, QByteArray email, QByteArray password);
    ~HaLoad();

    /// Signs the refreshers' sessions in (before the load starts); false on failure.
    bool prepare(int refreshers);
    void start(int signIns, int validators);
    void stop();
    bool busy() const;

    /// Database-bound requests (sign-in, refresh, revoke) that failed after `fromUs`: the end of
    /// the last one, or 0 when none failed.
    qint64 lastDatabaseFailureEndUs(qint64 fromUs) const;
    /// The first database-bound 200 sent at or after `fromUs`, on each instance; -1 if none yet.
    qint64 firstSuccessAfterUs(qint64 fromUs) const;
    QString statusSummary(qint64 fromUs, qint64 toUs) const;

    /// After the load: every acknowledged session still refreshes with its latest acknowledged
    /// token (none lost), and every acknowledged revocation still holds.
    void checkNothingLost(HaVerdict& verdict);
    HaVerdict verdict() const;

private:
    struct Role;
    void add(std::unique_ptr<Role> role);
    QList<QUrl> m_instances;
    QByteArray m_email;
    QByteArray m_password;
    std::vector<std::unique_ptr<Role>> m_roles;
    std::vector<std::shared_ptr<HaSession>> m_refreshing;
    std::vector<std::shared_ptr<HaSession>> m_signedIn; // acknowledged sign-ins, not being revoked
    std::vector<std::shared_ptr<HaSession>> m_revoking; // a revocation was sent (outcome unknown until 200)
    std::vector<std::shared_ptr<HaSession>> m_revoked;  // acknowledged revocations
    mutable HaVerdict m_verdict;
};

} // namespace ehrs::test
