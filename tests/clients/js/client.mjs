// A partner's GraphQL client in JavaScript: graphql-js 16 loads the gateway's schema from an
// introspection (buildClientSchema), validates every document against it locally, and sends
// them with fetch. Run by tests/clients/test_graphql_clients.py; prints one JSON object.
//
//     node client.mjs URL EMAIL PASSWORD ACCOUNT OTHER_ACCOUNT
import {
  buildClientSchema,
  getIntrospectionQuery,
  parse,
  validate,
  version,
} from "graphql";

const [url, email, password, account, otherAccount] = process.argv.slice(2);

const TOKEN = `mutation Login($email: String!, $password: String!) {
  obtainKrakenToken(input: {email: $email, password: $password}) { token refreshToken }
}`;
const UPDATE = `mutation Update($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}`;
const ACCOUNT = `query Account($number: String!) {
  account(accountNumber: $number) { number metadata { key value } }
}`;
const NOT_IN_SCHEMA = `query { account(accountNumber: "A-1") { noSuchField } }`;

async function post(query, variables, token) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `JWT ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return response.json();
}

function schemaFrom(introspection) {
  if (introspection.errors) throw new Error(JSON.stringify(introspection.errors));
  return buildClientSchema(introspection.data);
}

const report = { graphql_js: version };

// The plain introspection query, and the fullest one graphql-js 16 can ask (GraphiQL's kind).
const schema = schemaFrom(await post(getIntrospectionQuery({ descriptions: true })));
const fullest = schemaFrom(
  await post(
    getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    }),
  ),
);
report.schema_loaded = Boolean(schema.getMutationType() && fullest.getMutationType());
report.deprecated_locations = schema.getDirective("deprecated").locations;

function checked(query) {
  const errors = validate(schema, parse(query));
  if (errors.length) throw new Error(errors.map((e) => e.message).join("; "));
  return query;
}
report.local_validation = validate(schema, parse(NOT_IN_SCHEMA)).map((e) => e.message).join("; ");

const login = await post(checked(TOKEN), { email, password });
const token = login.data.obtainKrakenToken.token;
const input = {
  linkedObjectType: "ACCOUNT",
  identifier: account,
  key: "graphql-js-client",
  value: JSON.stringify({ pet_type: "dog", name: "fang", tags: ["a", 1, null] }),
};
report.update = (await post(checked(UPDATE), { input }, token)).data;
report.account = (await post(checked(ACCOUNT), { number: account }, token)).data;
const refused = await post(checked(UPDATE), { input: { ...input, identifier: otherAccount } }, token);
report.error = { errors: refused.errors, data: refused.data };

console.log(JSON.stringify(report));
