"""Independent reference implementation of Herald's signature schemes (Python standard library
only), used to write test/fixtures/signing-vectors.json. It shares no code with the TypeScript
signer, so the vectors check the signer rather than echo it.

    python3 packages/verify/test/independent/generate_vectors.py > test/fixtures/signing-vectors.json
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys

TS = 1718000000            # signing time, Unix seconds
NOW_MS = TS * 1000 + 456   # buildRequest's `now`: the milliseconds are dropped
USER_AGENT = 'Herald-Webhooks/0.1'

S_NEW = 'whsec_' + base64.b64encode(bytes(range(32))).decode()
S_OLD = 'whsec_' + base64.b64encode(bytes(range(32, 64))).decode()
SVIX_IMPORTED = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
WPG_SECRET = 'wpg_whsec_3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e'
WPG_OLD = 'wpg_whsec_0000old0000old0000old0000old000'
GAMEPUSH_SECRET = 'Be$T_Pr0jeCt'
PPG_PROJECT_ID = '5f3a2b1c9d8e7f6a5b4c3d2e'
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_OLD = 'previous github secret'
STRIPE_SECRET = 'whsec_stripe_style_test_secret_0123456789'


def json_text(value):
    # Byte-identical to JSON.stringify for these values (no floats, key order kept).
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False)


def ascii_json_text(value):
    # sha256-body: the same JSON with every non-ASCII character (and DEL) as a \uXXXX escape, so
    # GamePush's JSON.parse(atob(base64payload)) reads it as sent.
    return json.dumps(value, separators=(',', ':'), ensure_ascii=True)


def iso(ms):
    moment = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S') + '.%03dZ' % (ms % 1000)


def envelope(kind, event):
    if kind == 'raw':
        return event['payload']
    if kind == 'event-data':
        return {'event': event['type'], 'data': event['payload'], 'id': event['id'], 'time': iso(event['createdAt'])}
    return {'type': event['type'], 'timestamp': iso(event['createdAt']), 'data': event['payload']}


def fields(content):
    if not isinstance(content, dict):
        return [('data', content if isinstance(content, str) else json_text(content))]
    return [(k, v if isinstance(v, str) else json_text(v)) for k, v in content.items()]


def form_encode(pairs):
    # WHATWG application/x-www-form-urlencoded serializer (what URLSearchParams produces).
    def enc(text):
        out = []
        for byte in text.encode('utf-8'):
            ch = chr(byte)
            if ch.isascii() and (ch.isalnum() or ch in '*-._'):
                out.append(ch)
            elif ch == ' ':
                out.append('+')
            else:
                out.append('%%%02X' % byte)
        return ''.join(out)
    return '&'.join(enc(k) + '=' + enc(v) for k, v in pairs)


def b64(data):
    return base64.b64encode(data).decode()


def hmac_digest(algorithm, key, message):
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, message.encode(), algorithm).digest()


def build(v):
    event = v['event']
    scheme = v['signature']['scheme']
    opts = v['signature']
    secrets = v['secrets']
    content = envelope(v['envelope'], event)
    method = v['method']
    url = v['canonicalUrl']
    headers = {}
    body = None
    if method == 'GET':
        query = form_encode(fields(content))
        url = url + ('&' if '?' in url else '?') + query
        signed_body = ''
    elif scheme == 'hmac-sha1-url':
        signed_body = form_encode(fields(content))
        headers['content-type'] = 'application/x-www-form-urlencoded'
    elif scheme == 'sha256-body':
        signed_body = ascii_json_text(content)
        headers['content-type'] = 'text/plain'
    else:
        signed_body = json_text(content)
        headers['content-type'] = 'application/json'
    body = None if method == 'GET' else signed_body
    headers['webhook-id'] = event['id']
    ts = str(TS)
    signed_string = None
    if scheme == 'standard':
        signed_string = f"{event['id']}.{ts}.{signed_body}"
        entries = []
        for s in secrets:
            key = base64.b64decode(s[len('whsec_'):] if s.startswith('whsec_') else s, validate=True)
            entries.append('v1,' + b64(hmac_digest('sha256', key, signed_string)))
        headers['webhook-timestamp'] = ts
        headers['webhook-signature'] = ' '.join(entries)
    elif scheme == 'hmac-sha256':
        signed_string = f'{ts}.{signed_body}'
        digest = hmac_digest('sha256', secrets[0], signed_string)
        sig = b64(digest) if opts.get('encoding') == 'base64' else digest.hex()
        headers[opts.get('signatureHeader', 'X-Webhook-Signature').lower()] = sig
        headers[opts.get('timestampHeader', 'X-Webhook-Timestamp').lower()] = ts
    elif scheme == 'stripe':
        signed_string = f'{ts}.{signed_body}'
        headers['stripe-signature'] = f't={ts}' + ''.join(
            ',v1=' + hmac_digest('sha256', s, signed_string).hex() for s in secrets)
    elif scheme == 'github':
        signed_string = signed_body
        headers['x-hub-signature-256'] = 'sha256=' + hmac_digest('sha256', secrets[0], signed_string).hex()
    elif scheme == 'sha256-body':
        encoded = b64(signed_body.encode())
        signed_string = f'{encoded}_{secrets[0]}'
        body = encoded + '.' + hashlib.sha256(signed_string.encode()).hexdigest()
    elif scheme == 'hmac-sha1-url':
        params = [] if method == 'GET' else sorted(fields(content))
        signed_string = url + ''.join(k + v for k, v in params)
        key = opts.get('key', secrets[0] if secrets else None)
        headers[opts.get('signatureHeader', 'X-Signature').lower()] = b64(hmac_digest('sha1', key, signed_string))
    extra = {'user-agent': USER_AGENT}
    for name, value in v['headers'].items():
        if name in v.get('droppedHeaders', []):
            continue
        extra[name] = value
    # What the receiver's verify() returns.
    if method == 'GET' and scheme not in ('hmac-sha1-url', 'none'):
        payload = None  # only the empty body is signed: the query is not handed over as content
    elif method == 'GET':
        from urllib.parse import parse_qsl, urlsplit
        payload = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    elif scheme == 'hmac-sha1-url':
        payload = dict(fields(content))
    else:
        payload = content
    out = {k: v[k] for k in ('name', 'description', 'signature', 'secrets', 'envelope', 'method', 'url', 'headers')}
    out['event'] = {**event, 'createdAt': iso(event['createdAt'])}
    out['timestamp'] = TS
    out['nowMs'] = NOW_MS
    out['content'] = content
    out['signedString'] = signed_string
    out['expected'] = {'method': method, 'url': url, 'headers': headers, 'extraHeaders': extra, 'body': body}
    out['payload'] = payload
    return out


WPG_EVENT = {
    'id': 'evt_01j0a8d6q0wpgslotsubmit00',
    'type': 'slot.submitted',
    'payload': {'slotId': 'slot_8f2k', 'playtestId': 'pt_77', 'videoUrl': 'https://cdn.example/v/8f2k.mp4',
                'durationSeconds': 754, 'accepted': None},
    'createdAt': 1717999990123,
}
PURCHASE_EVENT = {
    'id': 'evt_01j0a8d6q0gamepushbuy0000',
    'type': 'PurchasePlayerPurchase',
    'payload': {'event': 'PurchasePlayerPurchase',
                'player': {'id': 1820283, 'name': 'João da Silva', 'projectId': 4, 'test': False},
                'result': {'__typename': 'PlayerPurchase', 'productId': 685, 'tag': 'gold 100 & more'},
                'time': '2024-04-26T11:34:23.415923998Z'},
    'createdAt': 1717999999001,
}
PPG_EVENT = {
    'id': 'evt_01j0a8d6q0pushpushgo00000',
    'type': 'subscriber.subscribed',
    'payload': {'projectId': PPG_PROJECT_ID, 'customId': 'player 42', 'ppgId': '65f0c1d2e3f4a5b6c7d8e9f0',
                'tags': ['vip', 'eu']},
    'createdAt': 1717999995000,
}
GUILD_EVENT = {
    'id': 'evt_01j0a8d6q0gamersafer00000',
    'type': 'guildInvite',
    'payload': {'event': 'guildInvite',
                'payload': {'code': '123456', 'guildMemberId': '01FC3GW10QG03E3FH3Q5ZPAYEN',
                            'internalId': 'your-internal-player-id'},
                'ageGroup': {'label': 'ADULT', 'confidence': 'HIGH'},
                'player': {'id': '01FC3GW10QG03E3FH3Q5ZPAYZ'}},
    'createdAt': 1717999999999,
}
NOTE_EVENT = {
    'id': 'evt_01j0a8d6q0notespecial0000',
    'type': 'chat.message',
    'payload': {'note': "a b&c=d~*'()!+%/?é🎮", 'count': 3},
    'createdAt': 1717999980000,
}
LIST_EVENT = {
    'id': 'evt_01j0a8d6q0rawarray0000000',
    'type': 'leaderboard.top',
    'payload': [{'player': 'p1', 'score': 990}, {'player': 'p2', 'score': 870}],
    'createdAt': 1717999970000,
}

RECEIVER = 'https://receiver.example/webhooks/herald'

VECTORS = [
    dict(name='standard/post', description='Standard Webhooks, one whsec_ secret; custom headers cannot forge webhook-signature or content-type',
         signature={'scheme': 'standard'}, secrets=[S_NEW], envelope='standard', method='POST', url=RECEIVER,
         headers={'X-Tenant': 'acme', 'webhook-signature': 'v1,forged', 'Content-Type': 'text/html'},
         droppedHeaders=['webhook-signature', 'Content-Type'], event=WPG_EVENT),
    dict(name='standard/rotation', description='Two valid secrets (newest first): one space-separated v1 entry each',
         signature={'scheme': 'standard'}, secrets=[S_NEW, S_OLD], envelope='event-data', method='PUT', url=RECEIVER,
         headers={}, event=WPG_EVENT),
    dict(name='standard/imported-secret', description='A secret imported from another Standard Webhooks/Svix sender (24 bytes), raw envelope, PATCH',
         signature={'scheme': 'standard'}, secrets=[SVIX_IMPORTED], envelope='raw', method='PATCH', url=RECEIVER,
         headers={}, event=PURCHASE_EVENT),
    dict(name='standard/get', description='GET (refused by the API; endpoints stored before still send it): top-level fields appended to the existing query string, no body, signature over the empty body, so verify() returns null, not the unsigned query',
         signature={'scheme': 'standard'}, secrets=[S_NEW], envelope='standard', method='GET',
         url='https://receiver.example/hooks?token=abc123', headers={}, event=WPG_EVENT),
    dict(name='hmac-sha256/weplaytestgames', description='WePlaytestGames headers X-WPG-Signature / X-WPG-Timestamp, hex, imported raw secret used as UTF-8 key',
         signature={'scheme': 'hmac-sha256', 'signatureHeader': 'X-WPG-Signature', 'timestampHeader': 'X-WPG-Timestamp'},
         secrets=[WPG_SECRET], envelope='event-data', method='POST', url='https://yourapp.example/webhooks/wpg',
         headers={'X-WPG-Signature': 'forged', 'X-Request-Source': 'herald'}, droppedHeaders=['X-WPG-Signature'], event=WPG_EVENT),
    dict(name='hmac-sha256/base64-default-headers', description='Default header names, base64 encoding; a generated whsec_ secret is used whole as UTF-8 key (not decoded)',
         signature={'scheme': 'hmac-sha256', 'encoding': 'base64'}, secrets=[S_NEW], envelope='standard', method='POST',
         url=RECEIVER, headers={}, event=PURCHASE_EVENT),
    dict(name='hmac-sha256/rotation', description='Two valid secrets: one signature only, with the newest',
         signature={'scheme': 'hmac-sha256', 'signatureHeader': 'X-WPG-Signature', 'timestampHeader': 'X-WPG-Timestamp'},
         secrets=[WPG_SECRET, WPG_OLD], envelope='event-data', method='POST', url='https://yourapp.example/webhooks/wpg',
         headers={}, event=WPG_EVENT),
    dict(name='stripe/single', description='Stripe-Signature t=,v1= with a Stripe-style secret used as UTF-8 key',
         signature={'scheme': 'stripe'}, secrets=[STRIPE_SECRET], envelope='raw', method='POST', url=RECEIVER,
         headers={}, event=PURCHASE_EVENT),
    dict(name='stripe/rotation', description='Two valid secrets: one v1= entry each',
         signature={'scheme': 'stripe'}, secrets=[S_NEW, S_OLD], envelope='standard', method='POST', url=RECEIVER,
         headers={}, event=WPG_EVENT),
    dict(name='github/raw', description="X-Hub-Signature-256 over the body (GitHub's documented example secret)",
         signature={'scheme': 'github'}, secrets=[GITHUB_SECRET], envelope='raw', method='POST', url=RECEIVER,
         headers={'X-Hub-Signature-256': 'sha256=forged'}, droppedHeaders=['X-Hub-Signature-256'], event=GUILD_EVENT),
    dict(name='github/rotation', description='Two valid secrets: one signature only, with the newest',
         signature={'scheme': 'github'}, secrets=[GITHUB_SECRET, GITHUB_OLD], envelope='event-data', method='POST',
         url=RECEIVER, headers={}, event=GUILD_EVENT),
    dict(name='sha256-body/gamepush', description="GamePush: body <base64(json)>.<hex sha256(base64_secret)>, text/plain; the seed page's example secret",
         signature={'scheme': 'sha256-body'}, secrets=[GAMEPUSH_SECRET], envelope='raw', method='POST',
         url='https://game.example/gamepush/webhook', headers={}, event=PURCHASE_EVENT),
    dict(name='sha256-body/rotation-utf8', description='Non-ASCII characters are \\uXXXX escapes in the JSON (ASCII for atob); two secrets: signed with the newest',
         signature={'scheme': 'sha256-body'}, secrets=[GAMEPUSH_SECRET, 'old gamepush key'], envelope='event-data',
         method='POST', url='https://game.example/gamepush/webhook', headers={}, event=NOTE_EVENT),
    dict(name='hmac-sha1-url/pushpushgo', description='PushPushGo: X-PPG-Signature, static key = project id, form body, URL with query string',
         signature={'scheme': 'hmac-sha1-url', 'signatureHeader': 'X-PPG-Signature', 'key': PPG_PROJECT_ID},
         secrets=[S_NEW], envelope='raw', method='POST', url='https://receiver.example/ppg/webhook?source=herald&v=2',
         headers={}, event=PPG_EVENT),
    dict(name='hmac-sha1-url/secret-key-canonical-url', description='Key = the secret; URL canonicalised (scheme/host lower case, default port and fragment dropped); special characters in form values',
         signature={'scheme': 'hmac-sha1-url'}, secrets=['ppg-shared-secret-value', 'older-shared-secret'],
         envelope='standard', method='POST', url='HTTPS://Receiver.EXAMPLE:443/Hooks/PPG#ignored',
         canonicalUrl='https://receiver.example/Hooks/PPG', headers={}, event=NOTE_EVENT),
    dict(name='hmac-sha1-url/empty-query', description='An empty query (a URL ending in ?) is no query: it is not sent (the request target is the path alone), so it is not signed',
         signature={'scheme': 'hmac-sha1-url', 'signatureHeader': 'X-PPG-Signature', 'key': PPG_PROJECT_ID},
         secrets=[S_NEW], envelope='raw', method='POST', url='https://receiver.example/ppg/webhook?#ignored',
         canonicalUrl='https://receiver.example/ppg/webhook', headers={}, event=PPG_EVENT),
    dict(name='hmac-sha1-url/get', description='GET: the signing string is the URL with its query (existing + envelope fields), no form fields',
         signature={'scheme': 'hmac-sha1-url'}, secrets=['ppg-shared-secret-value'], envelope='event-data', method='GET',
         url='https://receiver.example/ppg/webhook?token=xyz', headers={}, event=PPG_EVENT),
    dict(name='none/gamersafer', description='No signature: webhook-id and content-type only; custom Authorization header passes through',
         signature={'scheme': 'none'}, secrets=[], envelope='raw', method='POST',
         url='https://guild.example/webhooks/4f1c9e0b7a2d/gamersafer', headers={'Authorization': 'Bearer guild-token'},
         event=GUILD_EVENT),
    dict(name='none/get-array', description='GET of a raw array payload: a non-object payload travels as one field named data',
         signature={'scheme': 'none'}, secrets=[], envelope='raw', method='GET', url=RECEIVER, headers={}, event=LIST_EVENT),
]

for vector in VECTORS:
    vector.setdefault('canonicalUrl', vector['url'])

document = {
    'about': 'Herald signing vectors: fixed inputs and the exact request every signer must produce and every '
             'verifier must accept. Generated by packages/verify/test/independent/generate_vectors.py (Python stdlib).',
    'conventions': {
        'timestamp': 'Signing time in Unix seconds; buildRequest receives nowMs (milliseconds are dropped).',
        'secrets': 'Newest first. standard: whsec_ prefix optional, key = base64-decoded bytes. Every other scheme: key = UTF-8 bytes of the whole secret string.',
        'headers': 'expected.headers: what sign() produces (lower-case names). expected.extraHeaders: what buildRequest adds (user-agent, custom headers that survive). Custom headers named in a vector but absent from extraHeaders were refused.',
        'envelopes': 'standard {type,timestamp,data}; event-data {event,data,id,time}; raw = payload. Times: ISO-8601 of event.createdAt.',
        'fields': 'GET query strings and form bodies carry the top-level fields; strings as is, other values JSON-encoded; a non-object payload is one field named data. Encoding: WHATWG application/x-www-form-urlencoded (URLSearchParams).',
        'hmac-sha1-url': 'signedString = canonical URL (WHATWG serialisation, fragment removed, query string included, the ? of an empty query removed) + for each form field sorted by name (then value), in code point order: decoded name + decoded value, no separators. GET: no form fields, so the URL (with the envelope fields in its query) alone. key = signature.key if set, else the newest secret. Header value = base64 HMAC-SHA1.',
        'signedString': 'The exact string hashed (HMAC message; for sha256-body the SHA-256 input).',
        'payload': 'What verify() returns: the JSON content; form fields as strings (hmac-sha1-url); for GET the query fields of expected.url as strings where the URL is signed (hmac-sha1-url) or nothing is (none), else null.',
    },
    'vectors': [build(v) for v in VECTORS],
}
json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
sys.stdout.write('\n')
