#!/bin/sh
# Creates, once, what the Compose stack needs beside compose.yaml:
#   secrets/signing-key.pem  the token signing key, PKCS#8 PEM of an EC P-256 key (ES256)
#   secrets/secrets.key      the Fernet key that encrypts webhook secrets at rest
#   .env                     POSTGRES_PASSWORD (hex, so it needs no escaping in the database URL)
# Existing files are kept: a new secrets key would make every stored webhook secret unreadable,
# and a new signing key would invalidate every token issued. Needs only openssl.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets/retired
chmod 0700 secrets
chmod 0755 secrets/retired  # public keys only, read by UID 10001

if [ ! -e secrets/signing-key.pem ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out secrets/signing-key.pem
    echo "created secrets/signing-key.pem"
fi
if [ ! -e secrets/secrets.key ]; then
    # A Fernet key is 32 random bytes in URL-safe base64.
    openssl rand -base64 32 | tr '+/' '-_' >secrets/secrets.key
    echo "created secrets/secrets.key"
fi
if [ ! -e .env ]; then
    printf 'POSTGRES_PASSWORD=%s\n' "$(openssl rand -hex 24)" >.env
    echo "created .env"
fi

# Compose bind-mounts file secrets with their host owner and mode (its uid/gid/mode options are
# Swarm-only) and Entente runs as UID 10001. As root, give the files to that UID; otherwise make
# them readable, inside the 0700 directory that keeps other host users out.
if [ "$(id -u)" = 0 ]; then
    chown 10001:10001 secrets/signing-key.pem secrets/secrets.key
    chmod 0400 secrets/signing-key.pem secrets/secrets.key
else
    chmod 0444 secrets/signing-key.pem secrets/secrets.key
fi
