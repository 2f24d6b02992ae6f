#!/bin/sh
# Wait for HAPI, then POST each example transaction Bundle.
set -eu
base=http://hapi:8080/fhir
until curl -fsS "$base/metadata" >/dev/null 2>&1; do sleep 3; done
for bundle in /examples/*.json; do
  curl -fsS -X POST -H 'Content-Type: application/fhir+json' --data-binary "@$bundle" "$base" >/dev/null
  echo "loaded $bundle"
done
