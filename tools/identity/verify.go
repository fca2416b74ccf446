// Verifies a guestapi workload identity token with Go's standard library alone (README,
// "Workload identity"): the ES256 signature against a JWK Set, then iss, aud, exp, nbf and,
// if asked, nonce. Prints the claims and exits 0 when the token holds; else one line, exit 1.
//
// usage: go run tools/identity/verify.go -jwks FILE -token FILE -audience AUD
//
//	[-issuer ISS] [-nonce N] [-now UNIX-SECONDS]
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
)

type jwk struct {
	Kty, Crv, X, Y, Kid, Alg string
}

type header struct {
	Alg, Typ, Kid string
}

type claims struct {
	Iss   string          `json:"iss"`
	Sub   string          `json:"sub"`
	Aud   json.RawMessage `json:"aud"`
	Iat   int64           `json:"iat"`
	Nbf   int64           `json:"nbf"`
	Exp   int64           `json:"exp"`
	Jti   string          `json:"jti"`
	Nonce string          `json:"nonce"`
}

func main() {
	jwksFile := flag.String("jwks", "", "the JWK Set (guestapi-admin identity jwks)")
	tokenFile := flag.String("token", "", "a file holding the token")
	audience := flag.String("audience", "", "the audience the token must be for")
	issuer := flag.String("issuer", "", "the issuer the token must name (any when empty)")
	nonce := flag.String("nonce", "", "the nonce the token must carry (none checked when empty)")
	now := flag.Int64("now", 0, "the time to check at, in seconds since the epoch (default: now)")
	flag.Parse()
	at := *now
	if at == 0 {
		at = time.Now().Unix()
	}
	payload, err := verify(*jwksFile, *tokenFile, *audience, *issuer, *nonce, at)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(payload, '\n'))
}

func verify(jwksFile, tokenFile, audience, issuer, nonce string, now int64) ([]byte, error) {
	var set struct{ Keys []jwk }
	raw, err := os.ReadFile(jwksFile)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("key set: %v", err)
	}
	text, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimSpace(string(text)), ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	var h header
	if err := decodeJSON(parts[0], &h); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if h.Alg != "ES256" {
		return nil, fmt.Errorf("algorithm %q, not ES256", h.Alg)
	}
	var key *ecdsa.PublicKey
	for _, k := range set.Keys {
		if k.Kid == h.Kid && k.Kty == "EC" && k.Crv == "P-256" {
			x, errX := base64.RawURLEncoding.DecodeString(k.X)
			y, errY := base64.RawURLEncoding.DecodeString(k.Y)
			if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
				return nil, fmt.Errorf("key %s: bad coordinates", k.Kid)
			}
			key = &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
			if !key.Curve.IsOnCurve(key.X, key.Y) {
				return nil, fmt.Errorf("key %s: not on P-256", k.Kid)
			}
		}
	}
	if key == nil {
		return nil, fmt.Errorf("no key %q in the set", h.Kid)
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(signature) != 64 {
		return nil, errors.New("signature: not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(signature[:32]), new(big.Int).SetBytes(signature[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return nil, errors.New("bad signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	var c claims
	decoder := json.NewDecoder(bytes.NewReader(payload))
	if err := decoder.Decode(&c); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	var aud string
	if err := json.Unmarshal(c.Aud, &aud); err != nil || aud != audience {
		return nil, fmt.Errorf("audience %s, not %q", string(c.Aud), audience)
	}
	if issuer != "" && c.Iss != issuer {
		return nil, fmt.Errorf("issuer %q, not %q", c.Iss, issuer)
	}
	if now < c.Nbf {
		return nil, fmt.Errorf("not valid before %d (now %d)", c.Nbf, now)
	}
	if now >= c.Exp {
		return nil, fmt.Errorf("expired at %d (now %d)", c.Exp, now)
	}
	if nonce != "" && c.Nonce != nonce {
		return nil, fmt.Errorf("nonce %q, not %q", c.Nonce, nonce)
	}
	return payload, nil
}

func decodeJSON(part string, into any) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}
