# Capture server: records every request and answers minimal, valid streams (Responses SSE / Anthropic SSE).
import json, sys, os, http.server, threading, itertools
OUT = sys.argv[2]; PORT = int(sys.argv[1])
counter = itertools.count(1)
lock = threading.Lock()

def sse(handler, events, named=True):
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.end_headers()
    for name, data in events:
        s = (f"event: {name}\n" if named else "") + "data: " + json.dumps(data) + "\n\n"
        handler.wfile.write(s.encode()); handler.wfile.flush()

def responses_answer(body):
    items = body.get("input", [])
    has_output = any(isinstance(i, dict) and i.get("type") in ("function_call_output", "custom_tool_call_output") for i in items)
    tools = body.get("tools", [])
    rid = "resp_cap1"
    base = {"id": rid, "object": "response", "created_at": 1764626400, "status": "in_progress", "model": body.get("model"), "output": []}
    ev = [("response.created", {"type": "response.created", "sequence_number": 0, "response": base})]
    seq = 1
    usage = {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 110}
    if not has_output and tools:
        names = [t.get("name") for t in tools]
        name = next((n for n in names if n in ("shell", "exec_command", "shell_command", "local_shell")), names[0])
        tool = next(t for t in tools if t.get("name") == name)
        props = (tool.get("parameters") or {}).get("properties", {})
        if "command" in props and props["command"].get("type") == "array":
            args = {"command": ["bash", "-lc", "cat hello.txt"]}
        else:
            args = {"cmd": "cat hello.txt"} if "cmd" in props else {"command": "cat hello.txt"}
        item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": name, "arguments": json.dumps(args), "status": "completed"}
        ev.append(("response.output_item.added", {"type": "response.output_item.added", "sequence_number": seq, "output_index": 0, "item": dict(item, arguments="", status="in_progress")})); seq += 1
        ev.append(("response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta", "sequence_number": seq, "item_id": "fc_1", "output_index": 0, "delta": item["arguments"]})); seq += 1
        ev.append(("response.function_call_arguments.done", {"type": "response.function_call_arguments.done", "sequence_number": seq, "item_id": "fc_1", "output_index": 0, "arguments": item["arguments"]})); seq += 1
        ev.append(("response.output_item.done", {"type": "response.output_item.done", "sequence_number": seq, "output_index": 0, "item": item})); seq += 1
        out = [item]
    else:
        text = "The file says hello."
        item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [{"type": "output_text", "text": text, "annotations": []}]}
        ev.append(("response.output_item.added", {"type": "response.output_item.added", "sequence_number": seq, "output_index": 0, "item": dict(item, content=[], status="in_progress")})); seq += 1
        ev.append(("response.content_part.added", {"type": "response.content_part.added", "sequence_number": seq, "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}})); seq += 1
        ev.append(("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": seq, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": text})); seq += 1
        ev.append(("response.output_text.done", {"type": "response.output_text.done", "sequence_number": seq, "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": text})); seq += 1
        ev.append(("response.content_part.done", {"type": "response.content_part.done", "sequence_number": seq, "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}})); seq += 1
        ev.append(("response.output_item.done", {"type": "response.output_item.done", "sequence_number": seq, "output_index": 0, "item": item})); seq += 1
        out = [item]
    done = dict(base, status="completed", output=out, usage=usage)
    ev.append(("response.completed", {"type": "response.completed", "sequence_number": seq, "response": done}))
    return ev

def messages_answer(body):
    msgs = body.get("messages", [])
    last = msgs[-1] if msgs else {}
    content = last.get("content")
    has_result = isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    tools = [t.get("name") for t in body.get("tools", []) if isinstance(t, dict)]
    model = body.get("model")
    usage0 = {"input_tokens": 100, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}
    ev = [("message_start", {"type": "message_start", "message": {"id": "msg_cap", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage0}}),
          ("ping", {"type": "ping"})]
    base_index = 0
    if os.environ.get("CAP_THINKING") and not has_result and "Bash" in tools:
        ev.append(("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I should read the file."}}))
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCkYIARgCKkCaptureSignature=="}}))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        base_index = 1
    if os.environ.get("CAP_TOOLSEARCH") and "ToolSearch" in tools and not has_result:
        ev.append(("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_cap2", "name": "ToolSearch", "input": {}}}))
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"query\": \"select:WebSearch,WebFetch\", \"max_results\": 5}"}}))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        stop = "tool_use"
    elif "Bash" in tools and not has_result:
        ev.append(("content_block_start", {"type": "content_block_start", "index": base_index, "content_block": {"type": "tool_use", "id": "toolu_cap1", "name": "Bash", "input": {}}}))
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": base_index, "delta": {"type": "input_json_delta", "partial_json": "{\"command\": \"cat hello.txt\","}}))
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": base_index, "delta": {"type": "input_json_delta", "partial_json": " \"description\": \"Show hello.txt\"}"}}))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": base_index}))
        stop = "tool_use"
    else:
        text = "The file says hello." if has_result else "Hi"
        ev.append(("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
        ev.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        stop = "end_turn"
    ev.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 12}}))
    ev.append(("message_stop", {"type": "message_stop"}))
    return ev

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def record(self, body):
        n = next(counter)
        hdrs = {k.lower(): ("<redacted>" if k.lower() in ("authorization", "x-api-key") else v) for k, v in self.headers.items()}
        with open(os.path.join(OUT, f"{n:03d}-{self.command}-{self.path.split('?')[0].strip('/').replace('/', '_')}.json"), "w") as f:
            json.dump({"method": self.command, "path": self.path, "headers": hdrs, "body": body}, f, indent=2)
    def do_GET(self):
        self.record(None)
        data = json.dumps({"data": [], "object": "list"}).encode()
        self.send_response(200); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self.headers.get("content-encoding") == "zstd" or self.headers.get("content-encoding"):
            body = {"_encoded": self.headers.get("content-encoding"), "_len": len(raw)}
        else:
            try: body = json.loads(raw or b"null")
            except Exception: body = {"_raw": raw.decode("utf-8", "replace")}
        self.record(body)
        p = self.path.split("?")[0]
        if p.endswith("/responses"):
            sse(self, responses_answer(body)); self.close_connection = True
        elif p.endswith("/messages/count_tokens"):
            data = json.dumps({"input_tokens": 100}).encode()
            self.send_response(200); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
        elif p.endswith("/messages"):
            if body.get("stream"):
                sse(self, messages_answer(body)); self.close_connection = True
            else:
                data = json.dumps({"id": "msg_cap", "type": "message", "role": "assistant", "model": body.get("model"), "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}).encode()
                self.send_response(200); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
        else:
            self.send_response(404); self.send_header("content-length", "0"); self.end_headers()

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
