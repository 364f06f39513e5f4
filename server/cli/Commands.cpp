// SPDX-License-Identifier: Apache-2.0
#include "Commands.h"

#include "LogHandler.h"
#include "Logging.h"
#include "UnixSignals.h"
#include "UserImport.h"
#include "app/ServerApp.h"
#include "keys/KeyRing.h"
#include "wiring/ServiceBundle.h"

#include <QCoreApplication>
#include <QFile>
#include <QTextStream>
#include <cstdio>
#include <functional>
#include <termios.h>
#include <unistd.h>

namespace ehrs::server::cli {
namespace {
int failWith(const QString& message)
{
    std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(message));
    return 1;
}

QString readLineNoEcho(const char* prompt)
{
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    termios old{};
    const bool tty = ::isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios noEcho = old;
        noEcho.c_lflag &= ~tcflag_t(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &noEcho);
    }
    QTextStream in(stdin);
    const QString line = in.readLine();
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        std::fprintf(stderr, "\n");
    }
    return line;
}

/// A new password: from stdin (one line), or typed twice at a no-echo prompt.
Result<QString> readNewPassword(bool fromStdin)
{
    if (fromStdin || !::isatty(STDIN_FILENO)) {
        QTextStream in(stdin);
        const QString line = in.readLine();
        if (line.isNull())
            return fail(ErrorCode::InvalidRequest, QStringLiteral("no password on standard input"));
        return line;
    }
    const QString first = readLineNoEcho("New password: ");
    const QString second = readLineNoEcho("Repeat password: ");
    if (first != second)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("the passwords do not match"));
    return first;
}

Result<UserRecord> findUser(ServiceBundle& services, const QString& emailOrId)
{
    auto user = emailOrId.contains(u'@') ? services.users.findByEmail(emailOrId) : services.users.findById(emailOrId);
    if (!user)
        return fail(user.error());
    if (!*user)
        return fail(ErrorCode::NotFound, QStringLiteral("no user %1").arg(emailOrId));
    return **user;
}

AuditActor cliActor()
{
    return AuditActor{{}, {}, QStringLiteral("local"), QStringLiteral("ehr-sessions-server cli")};
}

/// Opens the services, finds the user, runs `action` and prints its one-line outcome.
using UserAction = std::function<Result<QString>(SharedState&, ServiceBundle&, const UserRecord&)>;
int withUser(const ServerConfig& config, const QString& emailOrId, const UserAction& action)
{
    std::unique_ptr<SharedState> shared;
    auto services = openServices(shared, config);
    if (!services)
        return failWith(services.error().message);
    auto user = findUser(**services, emailOrId);
    if (!user)
        return failWith(user.error().message);
    auto outcome = action(*shared, **services, *user);
    if (!outcome)
        return failWith(outcome.error().message);
    std::printf("%s\n", qPrintable(*outcome));
    return 0;
}
} // namespace

Result<std::unique_ptr<ServiceBundle>> openServices(std::unique_ptr<SharedState>& shared,
                                                    const ServerConfig& config)
{
    if (auto m = migrateDatabase(config); !m)
        return fail(m.error());
    auto s = SharedState::create(config);
    if (!s)
        return fail(s.error());
    shared = std::move(*s);
    return ServiceBundle::create(*shared);
}

int migrate(const ServerConfig& config)
{
    auto applied = migrateDatabase(config);
    if (!applied)
        return failWith(applied.error().message);
    if (applied->isEmpty())
        std::printf("schema is up to date\n");
    for (int v : *applied)
        std::printf("applied migration %04d\n", v);
    return 0;
}

int userAdd(const ServerConfig& config, const QString& email, const QString& name, bool admin,
            bool passwordStdin, const QString& groups)
{
    if (auto e = UserStore::checkEmail(email); !e)
        return failWith(e.error().message);
    QStringList groupList;
    for (const QString& g : groups.split(u',', Qt::SkipEmptyParts)) {
        const QString group = g.trimmed().toLower();
        if (!PolicyRule::isValidGroup(group))
            return failWith(
                QStringLiteral("--groups: '%1' is not a group name (lower-case letters, digits, '.', "
                               "'_', '-')")
                    .arg(g));
        groupList << group;
    }
    groupList.sort();
    groupList.removeDuplicates();
    std::unique_ptr<SharedState> shared;
    auto services = openServices(shared, config);
    if (!services)
        return failWith(services.error().message);
    auto password = readNewPassword(passwordStdin);
    if (!password)
        return failWith(password.error().message);
    if (auto p = PasswordHasher::checkPolicy(*password); !p)
        return failWith(p.error().message);
    auto hash = shared->hasher().hash(*password);
    if (!hash)
        return failWith(hash.error().message);
    auto user = (*services)->users.create(email, name, *hash,
                                          admin ? QStringLiteral("admin") : QStringLiteral("user"),
                                          shared->clock().nowMs(), groupList);
    if (!user)
        return failWith(user.error().message);
    (*services)->audit.record(QStringLiteral("user_created"), cliActor(), {{"user", user->id.toStdString()}});
    std::printf("created user %s (%s)%s\n", qPrintable(user->email), qPrintable(user->id), admin ? " as admin" : "");
    return 0;
}

int userImport(const ServerConfig& config, const QString& path, bool dryRun)
{
    QFile file;
    const bool opened = path == u"-" ? file.open(stdin, QIODevice::ReadOnly)
                                     : (file.setFileName(path), file.open(QIODevice::ReadOnly));
    if (!opened)
        return failWith(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    constexpr qint64 kMaxBytes = 512LL * 1024 * 1024;
    const QByteArray csv = file.read(kMaxBytes + 1);
    if (csv.size() > kMaxBytes)
        return failWith(QStringLiteral("%1 is larger than 512 MB: split it").arg(path));
    ImportPlan plan = parseUserImport(csv);

    std::unique_ptr<SharedState> shared;
    auto services = openServices(shared, config);
    if (!services)
        return failWith(services.error().message);
    if (plan.problems.isEmpty()) {
        for (const ImportedUser& u : plan.users) {
            auto existing = (*services)->users.findByEmail(u.email);
            if (!existing)
                return failWith(existing.error().message);
            if (*existing)
                plan.problems << ImportProblem{u.line,
                                               QStringLiteral("a user %1 already exists").arg(u.email)};
        }
    }
    if (!plan.problems.isEmpty()) {
        for (const ImportProblem& p : plan.problems)
            std::fprintf(stderr, "ehr-sessions-server: %s: line %d: %s\n", qPrintable(path), p.line,
                         qPrintable(p.message));
        return failWith(
            QStringLiteral("nothing was imported (%1 problem(s)); fix the file and run the import again")
                .arg(plan.problems.size()));
    }
    int bcrypt = 0;
    for (const ImportedUser& u : plan.users)
        bcrypt += PasswordHasher::formatOf(u.passwordHash) == PasswordHasher::Format::Bcrypt ? 1 : 0;
    const QString counts = QStringLiteral("%1 user(s): %2 with bcrypt hashes, %3 with argon2id")
                               .arg(plan.users.size())
                               .arg(bcrypt)
                               .arg(plan.users.size() - bcrypt);
    if (dryRun) {
        std::printf("dry run: %s would be imported; nothing was written\n", qPrintable(counts));
        return 0;
    }
    // All or nothing: one transaction for every user and its audit row.
    Database& db = *(*services)->db;
    WithoutDeadline bulk(db);
    Transaction tx(db);
    if (auto r = tx.begin(); !r)
        return failWith(r.error().message);
    const qint64 now = shared->clock().nowMs();
    for (const ImportedUser& u : plan.users) {
        auto user = (*services)->users.create(u.email, u.name, u.passwordHash, u.role, now, u.groups);
        if (!user)
            return failWith(
                QStringLiteral("line %1: %2; nothing was imported").arg(u.line).arg(user.error().message));
        (*services)->audit.record(
            QStringLiteral("user_created"), cliActor(),
            {{"user", user->id.toStdString()},
             {"source", "import"},
             {"hashFormat", PasswordHasher::formatOf(u.passwordHash) == PasswordHasher::Format::Bcrypt
                                ? "bcrypt"
                                : "argon2id"}});
    }
    if (auto r = tx.commit(); !r)
        return failWith(QStringLiteral("%1; nothing was imported").arg(r.error().message));
    std::printf(
        "imported %s; each signs in with the password they already have (bcrypt hashes become argon2id at "
        "the first sign-in)\n",
        qPrintable(counts));
    return 0;
}

int userPasswd(const ServerConfig& config, const QString& email, bool passwordStdin)
{
    return withUser(config, email, [&](SharedState& shared, ServiceBundle& services, const UserRecord& user) -> Result<QString> {
        auto password = readNewPassword(passwordStdin);
        if (!password)
            return fail(password.error());
        if (auto p = PasswordHasher::checkPolicy(*password); !p)
            return fail(p.error());
        auto hash = shared.hasher().hash(*password);
        if (!hash)
            return fail(hash.error());
        if (auto r = services.users.setPasswordHash(user.id, *hash, shared.clock().nowMs()); !r)
            return fail(r.error());
        auto n = services.service.revokeAllForUser(user.id, QStringLiteral("password_changed"), cliActor());
        return QStringLiteral("password changed for %1; %2 session(s) ended").arg(user.email).arg(n ? *n : 0);
    });
}

int userDisable(const ServerConfig& config, const QString& email)
{
    return withUser(
        config, email,
        [](SharedState& shared, ServiceBundle& services, const UserRecord& user) -> Result<QString> {
            if (auto r = services.users.setDisabled(user.id, true, shared.clock().nowMs()); !r)
                return fail(r.error());
            auto n = services.service.revokeAllForUser(user.id, QStringLiteral("user_disabled"), cliActor());
            if (!n)
                return fail(n.error());
            return QStringLiteral("disabled %1; %2 session(s) ended").arg(user.email).arg(*n);
        });
}

int userMfaReset(const ServerConfig& config, const QString& email)
{
    return withUser(
        config, email,
        [](SharedState& shared, ServiceBundle& services, const UserRecord& user) -> Result<QString> {
            const bool wasOn = user.mfaEnabled;
            if (auto r = services.users.resetMfa(user.id, shared.clock().nowMs()); !r)
                return fail(r.error());
            AuditActor actor = cliActor();
            actor.userId = user.id; // the row belongs to the user's history; the actor is the CLI
            auto n = services.service.revokeAllForUser(user.id, QStringLiteral("mfa_reset"), actor);
            if (!n)
                return fail(n.error());
            services.audit.record(QStringLiteral("mfa_reset"), actor,
                                  {{"actor", "cli"}, {"wasEnabled", wasOn}, {"sessionsEnded", *n}});
            return QStringLiteral("two-step verification of %1 reset (it was %2); %3 session(s) ended")
                .arg(user.email, wasOn ? QStringLiteral("on") : QStringLiteral("off"))
                .arg(*n);
        });
}

int revokeUserSessions(const ServerConfig& config, const QString& emailOrId)
{
    return withUser(config, emailOrId, [](SharedState&, ServiceBundle& services, const UserRecord& user) -> Result<QString> {
        auto n = services.service.revokeAllForUser(user.id, QStringLiteral("revoked_by_admin"), cliActor());
        if (!n)
            return fail(n.error());
        return QStringLiteral("revoked %1 session(s) of %2").arg(*n).arg(user.email);
    });
}

int cleanup(const ServerConfig& config)
{
    std::unique_ptr<SharedState> shared;
    auto services = openServices(shared, config);
    if (!services)
        return failWith(services.error().message);
    auto n = (*services)->service.cleanup(cliActor());
    if (!n)
        return failWith(n.error().message);
    std::printf("deleted %d old session(s)\n", *n);
    return 0;
}

int rotateKeys(const ServerConfig& config)
{
    if (config.jwtKeysDir.isEmpty())
        return failWith(QStringLiteral("keys rotate needs JWT_KEYS_DIR (EdDSA keys); HS256 secrets are rotated by "
                                       "changing JWT_SECRET, which signs everyone out"));
    auto kid = KeyRing::rotate(config.jwtKeysDir, config.accessTokenTtl);
    if (!kid)
        return failWith(kid.error().message);
    std::printf("new signing key %s in %s; running instances switch within a minute, and keep verifying the old "
                "key until its tokens expire\n",
                kid->constData(), qPrintable(config.jwtKeysDir));
    return 0;
}

int serve(const ServerConfig& config)
{
    installLogHandler(chooseLogOutput(config.logFormat));
    auto shared = SharedState::create(config);
    if (!shared)
        return failWith(shared.error().message);
    ServerApp app(std::move(*shared));
    if (auto r = app.start(); !r)
        return failWith(r.error().message);
    UnixSignals signals;
    QObject::connect(&signals, &UnixSignals::terminationRequested, qApp, &QCoreApplication::quit);
    const int rc = QCoreApplication::exec();
    app.stop();
    qCInfo(lcServer) << "stopped";
    return rc;
}

} // namespace ehrs::server::cli
