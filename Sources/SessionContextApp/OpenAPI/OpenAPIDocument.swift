/// The OpenAPI 3.1 description of the whole API, served at `GET /openapi.json`. The test suite
/// checks every response it receives against it, so it stays true.
public enum OpenAPIDocument {
    /// The document's JSON text.
    public static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "session-context",
  "version": "1.0.0",
  "description": "Session contexts of a commerce storefront, kept in Redis: the management side (client-credentials tokens with the manage scope) and the storefront side (customer or anonymous tokens, the session id from the token's sid). Every applied change publishes one event on the Redis channel session-context:{tenant}:events."
 },
 "servers": [
  {
   "url": "/"
  }
 ],
 "paths": {
  "/session-context/{tenant}/context": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    }
   ],
   "get": {
    "operationId": "listCustomerContexts",
    "summary": "The live session contexts of one customer, by session id (found through the customer index; see the README).",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "parameters": [
     {
      "name": "customerId",
      "in": "query",
      "required": true,
      "description": "The customer whose sessions these are (1 to 256 characters, no control characters).",
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 1024
      }
     }
    ],
    "responses": {
     "200": {
      "description": "The customer's session contexts; an empty array when there are none.",
      "content": {
       "application/json": {
        "schema": {
         "type": "array",
         "items": {
          "$ref": "#/components/schemas/SessionContext"
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   },
   "delete": {
    "operationId": "endCustomerSessions",
    "summary": "End every live session of one customer (log out everywhere). Each ended session publishes its deleted event.",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "parameters": [
     {
      "name": "customerId",
      "in": "query",
      "required": true,
      "description": "The customer whose sessions these are (1 to 256 characters, no control characters).",
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 1024
      }
     }
    ],
    "responses": {
     "204": {
      "description": "Every session of the customer is ended (also when there was none).",
      "headers": {
       "Sessions-Ended": {
        "description": "How many sessions this request ended.",
        "schema": {
         "type": "integer",
         "minimum": 0
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/context/{sessionId}": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    },
    {
     "name": "sessionId",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9._:-]{1,128}$"
     }
    }
   ],
   "get": {
    "operationId": "getContext",
    "summary": "Read a session context (does not restart its idle clock).",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "responses": {
     "200": {
      "description": "The session context.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SessionContext"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   },
   "put": {
    "operationId": "replaceContext",
    "summary": "Replace a session context, with optimistic locking; creates it with upsert=true.",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "parameters": [
     {
      "name": "upsert",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "true",
        "false"
       ]
      }
     },
     {
      "name": "saas-token",
      "in": "header",
      "required": false,
      "description": "A customer token; required when the stored context or the body has a customerId.",
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/ContextReplacement"
       }
      }
     }
    },
    "responses": {
     "204": {
      "description": "Replaced (or unchanged).",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "409": {
      "$ref": "#/components/responses/Error409"
     },
     "413": {
      "$ref": "#/components/responses/Error413"
     },
     "415": {
      "$ref": "#/components/responses/Error415"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   },
   "delete": {
    "operationId": "deleteContext",
    "summary": "End a session: delete its context.",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "responses": {
     "204": {
      "description": "Deleted."
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/context/{sessionId}/attributes": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    },
    {
     "name": "sessionId",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9._:-]{1,128}$"
     }
    }
   ],
   "post": {
    "operationId": "setAttribute",
    "summary": "Set one attribute (no version check).",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Attribute"
       }
      }
     }
    },
    "responses": {
     "204": {
      "description": "Set (or unchanged).",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "413": {
      "$ref": "#/components/responses/Error413"
     },
     "415": {
      "$ref": "#/components/responses/Error415"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/context/{sessionId}/attributes/{attributeName}": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    },
    {
     "name": "sessionId",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9._:-]{1,128}$"
     }
    },
    {
     "name": "attributeName",
     "in": "path",
     "required": true,
     "description": "The attribute name, percent-encoded.",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     }
    }
   ],
   "delete": {
    "operationId": "deleteAttribute",
    "summary": "Remove one attribute (no version check; absent is fine).",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "responses": {
     "204": {
      "description": "Removed (or was absent).",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/me/context": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    }
   ],
   "get": {
    "operationId": "getMyContext",
    "summary": "Read the token's session context and restart its idle clock.",
    "security": [
     {
      "bearer": []
     }
    ],
    "responses": {
     "200": {
      "description": "The session context.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SessionContext"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   },
   "patch": {
    "operationId": "patchMyContext",
    "summary": "Merge siteCode, currency, targetLocation, language and attributes (null removes), with optimistic locking.",
    "security": [
     {
      "bearer": []
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/ContextPatch"
       }
      }
     }
    },
    "responses": {
     "204": {
      "description": "Merged (or unchanged).",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "409": {
      "$ref": "#/components/responses/Error409"
     },
     "413": {
      "$ref": "#/components/responses/Error413"
     },
     "415": {
      "$ref": "#/components/responses/Error415"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/me/context/attributes": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    }
   ],
   "post": {
    "operationId": "setMyAttribute",
    "summary": "Set one attribute of the token's session.",
    "security": [
     {
      "bearer": []
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Attribute"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Set; the body is the attribute name.",
      "content": {
       "application/json": {
        "schema": {
         "type": "string"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "413": {
      "$ref": "#/components/responses/Error413"
     },
     "415": {
      "$ref": "#/components/responses/Error415"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/me/context/attributes/{attributeName}": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    },
    {
     "name": "attributeName",
     "in": "path",
     "required": true,
     "description": "The attribute name, percent-encoded.",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     }
    }
   ],
   "delete": {
    "operationId": "deleteMyAttribute",
    "summary": "Remove one attribute of the token's session.",
    "security": [
     {
      "bearer": []
     }
    ],
    "responses": {
     "204": {
      "description": "Removed (or was absent).",
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "404": {
      "$ref": "#/components/responses/Error404"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/health/live": {
   "get": {
    "operationId": "live",
    "summary": "The process answers.",
    "security": [],
    "responses": {
     "200": {
      "description": "Alive.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     }
    }
   }
  },
  "/health/ready": {
   "get": {
    "operationId": "ready",
    "summary": "Redis answers PING.",
    "security": [],
    "responses": {
     "200": {
      "description": "Ready.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     }
    }
   }
  },
  "/session-context/{tenant}/events": {
   "parameters": [
    {
     "name": "tenant",
     "in": "path",
     "required": true,
     "description": "The tenant, lower case.",
     "schema": {
      "type": "string",
      "pattern": "^[a-z][a-z0-9]+$",
      "minLength": 3,
      "maxLength": 16
     }
    }
   ],
   "get": {
    "operationId": "streamEvents",
    "summary": "The tenant's change events as server-sent events (id: stream id, event: type, data: the event JSON); resumes after Last-Event-ID.",
    "security": [
     {
      "bearer": [
       "session_context.context_manage"
      ]
     }
    ],
    "parameters": [
     {
      "name": "Last-Event-ID",
      "in": "header",
      "required": false,
      "description": "Resume after this stream id (each part at most 18446744073709551615); 0 for everything stored. Without it, every event from just before the answer on.",
      "schema": {
       "type": "string",
       "pattern": "^([0-9]+-[0-9]+|0)$"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "An endless event stream.",
      "content": {
       "text/event-stream": {
        "schema": {
         "type": "object",
         "properties": {
          "id": {
           "type": "string"
          },
          "event": {
           "type": "string"
          },
          "data": {
           "type": "string"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Error400"
     },
     "401": {
      "$ref": "#/components/responses/Error401"
     },
     "403": {
      "$ref": "#/components/responses/Error403"
     },
     "503": {
      "$ref": "#/components/responses/Error503"
     },
     "501": {
      "description": "There is no durable event stream: the service runs on a Redis Cluster, or with stream length 0. The pub/sub channel session-context:{tenant}:events still carries every event.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document.",
    "security": [],
    "responses": {
     "200": {
      "description": "The OpenAPI document.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus metrics.",
    "security": [],
    "responses": {
     "200": {
      "description": "Metrics in the Prometheus text format.",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT"
   }
  },
  "schemas": {
   "AttributeValue": {
    "description": "A JSON string, or a JSON object (kept exactly).",
    "oneOf": [
     {
      "type": "string"
     },
     {
      "type": "object"
     }
    ]
   },
   "Attributes": {
    "type": "object",
    "additionalProperties": {
     "$ref": "#/components/schemas/AttributeValue"
    }
   },
   "Metadata": {
    "type": "object",
    "required": [
     "version"
    ],
    "properties": {
     "version": {
      "type": "integer",
      "minimum": 0
     },
     "createdAt": {
      "type": "string",
      "format": "date-time"
     },
     "modifiedAt": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "SessionContext": {
    "type": "object",
    "required": [
     "sessionId",
     "context",
     "metadata"
    ],
    "properties": {
     "sessionId": {
      "type": "string"
     },
     "customerId": {
      "type": "string"
     },
     "siteCode": {
      "type": "string"
     },
     "currency": {
      "type": "string",
      "pattern": "^[A-Z]{3}$"
     },
     "cartId": {
      "type": "string"
     },
     "targetLocation": {
      "type": "string",
      "pattern": "^[A-Z]{2}$"
     },
     "language": {
      "type": "string",
      "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
     },
     "context": {
      "$ref": "#/components/schemas/Attributes"
     },
     "metadata": {
      "$ref": "#/components/schemas/Metadata"
     }
    },
    "additionalProperties": false
   },
   "ContextReplacement": {
    "type": "object",
    "required": [
     "metadata"
    ],
    "properties": {
     "sessionId": {
      "type": "string",
      "description": "When present, must equal the session id of the path (else 400)."
     },
     "customerId": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     },
     "siteCode": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     },
     "currency": {
      "type": [
       "string",
       "null"
      ],
      "pattern": "^[A-Z]{3}$"
     },
     "cartId": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     },
     "targetLocation": {
      "type": [
       "string",
       "null"
      ],
      "pattern": "^[A-Z]{2}$"
     },
     "language": {
      "type": [
       "string",
       "null"
      ],
      "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
     },
     "context": {
      "$ref": "#/components/schemas/Attributes"
     },
     "metadata": {
      "$ref": "#/components/schemas/Metadata"
     }
    }
   },
   "ContextPatch": {
    "type": "object",
    "required": [
     "metadata"
    ],
    "properties": {
     "siteCode": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     },
     "currency": {
      "type": [
       "string",
       "null"
      ],
      "pattern": "^[A-Z]{3}$"
     },
     "targetLocation": {
      "type": [
       "string",
       "null"
      ],
      "pattern": "^[A-Z]{2}$"
     },
     "language": {
      "type": [
       "string",
       "null"
      ],
      "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
     },
     "context": {
      "type": [
       "object",
       "null"
      ],
      "additionalProperties": {
       "oneOf": [
        {
         "type": "string"
        },
        {
         "type": "object"
        },
        {
         "type": "null"
        }
       ]
      }
     },
     "metadata": {
      "$ref": "#/components/schemas/Metadata"
     }
    }
   },
   "Attribute": {
    "type": "object",
    "required": [
     "key",
     "value"
    ],
    "properties": {
     "key": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
     },
     "value": {
      "$ref": "#/components/schemas/AttributeValue"
     }
    }
   },
   "Error": {
    "type": "object",
    "required": [
     "code",
     "message"
    ],
    "properties": {
     "code": {
      "type": "integer"
     },
     "message": {
      "type": "string"
     },
     "sessionId": {
      "type": "string"
     },
     "currentVersion": {
      "type": "integer"
     }
    }
   },
   "Health": {
    "type": "object",
    "required": [
     "status"
    ],
    "properties": {
     "status": {
      "type": "string"
     }
    }
   }
  },
  "responses": {
   "Error400": {
    "description": "Malformed JSON, wrong types, a broken rule, or a bad tenant, session id or attribute name; the message names the field.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Error401": {
    "description": "No token, bad signature, expired, wrong algorithm.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    },
    "headers": {
     "WWW-Authenticate": {
      "schema": {
       "type": "string"
      }
     }
    }
   },
   "Error403": {
    "description": "Valid token without the needed scope, of another tenant, or of another customer.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Error404": {
    "description": "No such session context.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Error503": {
    "description": "Redis unreachable or timing out; retry after `Retry-After` seconds.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    },
    "headers": {
     "Retry-After": {
      "schema": {
       "type": "string"
      }
     }
    }
   },
   "Error409": {
    "description": "Version mismatch; `currentVersion` is the stored version.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Error413": {
    "description": "Body over the limit (64 KiB by default).",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Error415": {
    "description": "The body is not application/json.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  },
  "headers": {
   "ETag": {
    "description": "The context's version after the write, quoted: `\"7\"`.",
    "schema": {
     "type": "string",
     "pattern": "^\"[0-9]+\"$"
    }
   }
  }
 }
}
"""#
}
