-- The ERP tables the portal shares (SQLite). Idempotent: safe to run again.
-- Same rules as postgresql.sql: a change to erp_pedido or any of its children bumps the order's
-- versao (+1, unless the writer already changed it) and atualizado_em; a change to erp_cliente
-- bumps its own; rows the portal writes bump nothing. SQLite has no NOTIFY: the follower polls.
-- Columns the ERP may leave NULL are nullable (DESIGN.md: "Real ERPs leave optional columns NULL").
--
-- Row triggers only (SQLite has no statement triggers): a statement that writes N rows of a
-- child table bumps the order N times (PostgreSQL: once per statement). One single-row change is
-- one bump, with PRAGMA recursive_triggers ON or OFF (SQLite's default, and Django's): every
-- trigger reacts to named columns only (AFTER UPDATE OF …) and its own UPDATE sets only columns
-- that fire nothing more (versao fires the stamp; the stamp sets atualizado_em, which fires
-- nothing). The triggers below are generated from one list: erp_sync/schema.py.
CREATE TABLE IF NOT EXISTS erp_cliente (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    empresa_id BIGINT NOT NULL,
    nome VARCHAR(200) NOT NULL,
    cpf_cnpj VARCHAR(18),
    email VARCHAR(254),
    ativo BOOLEAN DEFAULT 1,
    versao BIGINT NOT NULL DEFAULT 1,
    atualizado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS erp_cliente_empresa ON erp_cliente (empresa_id, id);

CREATE TABLE IF NOT EXISTS erp_pedido (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    empresa_id BIGINT NOT NULL,
    cliente_id BIGINT NOT NULL REFERENCES erp_cliente (id) ON DELETE CASCADE,
    numero BIGINT NOT NULL,
    status CHAR(3) NOT NULL CHECK (status IN ('PRO', 'APR', 'PED', 'CAN')),
    emitido_em DATE NOT NULL,
    validade DATE,
    vendedor VARCHAR(120),
    forma_pagamento VARCHAR(120),
    condicao_pagamento VARCHAR(200),
    observacoes TEXT,
    valor_produtos NUMERIC(14, 2),
    valor_servicos NUMERIC(14, 2),
    desconto NUMERIC(14, 2),
    frete NUMERIC(14, 2),
    valor_total NUMERIC(14, 2),
    aprovado_em DATETIME,
    aprovado_por VARCHAR(254),
    versao BIGINT NOT NULL DEFAULT 1,
    atualizado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    UNIQUE (empresa_id, numero)
);
CREATE INDEX IF NOT EXISTS erp_pedido_cliente ON erp_pedido (cliente_id);

CREATE TABLE IF NOT EXISTS erp_pedido_item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL REFERENCES erp_pedido (id) ON DELETE CASCADE,
    sequencia INTEGER NOT NULL,
    tipo CHAR(1) NOT NULL CHECK (tipo IN ('P', 'S')),
    codigo VARCHAR(60),
    descricao VARCHAR(300) NOT NULL,
    unidade VARCHAR(10),
    quantidade NUMERIC(14, 4) NOT NULL,
    valor_unitario NUMERIC(14, 4) NOT NULL,
    desconto NUMERIC(14, 2),
    valor_total NUMERIC(14, 2) NOT NULL,
    informacoes TEXT
);
CREATE INDEX IF NOT EXISTS erp_pedido_item_pedido ON erp_pedido_item (pedido_id);

CREATE TABLE IF NOT EXISTS erp_pedido_parcela (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL REFERENCES erp_pedido (id) ON DELETE CASCADE,
    numero INTEGER NOT NULL,
    vencimento DATE NOT NULL,
    valor NUMERIC(14, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS erp_pedido_parcela_pedido ON erp_pedido_parcela (pedido_id);

CREATE TABLE IF NOT EXISTS erp_pedido_contrato (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL UNIQUE REFERENCES erp_pedido (id) ON DELETE CASCADE,
    titulo VARCHAR(200) NOT NULL,
    conteudo_html TEXT,
    arquivo BLOB,
    assinatura VARCHAR(7) NOT NULL DEFAULT 'MANUAL' CHECK (assinatura IN ('MANUAL', 'DIGITAL')),
    atualizado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS erp_contrato_signatario (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contrato_id BIGINT NOT NULL REFERENCES erp_pedido_contrato (id) ON DELETE CASCADE,
    email VARCHAR(254) NOT NULL,
    papel VARCHAR(10) NOT NULL CHECK (papel IN ('PARTE', 'TESTEMUNHA'))
);
CREATE INDEX IF NOT EXISTS erp_contrato_signatario_contrato
    ON erp_contrato_signatario (contrato_id);

CREATE TABLE IF NOT EXISTS erp_pedido_anexo (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL REFERENCES erp_pedido (id) ON DELETE CASCADE,
    tipo VARCHAR(20) NOT NULL CHECK (tipo IN ('PROPOSTA', 'CONTRATO_ASSINADO', 'OUTRO')),
    nome VARCHAR(255) NOT NULL,
    mime VARCHAR(100) NOT NULL,
    conteudo BLOB NOT NULL,
    sha256 CHAR(64),
    origem VARCHAR(6) NOT NULL CHECK (origem IN ('ERP', 'PORTAL')),
    criado_em DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS erp_pedido_anexo_pedido ON erp_pedido_anexo (pedido_id);

CREATE TABLE IF NOT EXISTS erp_portal_evento (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    empresa_id BIGINT NOT NULL,
    pedido_id BIGINT,
    tipo VARCHAR(20) NOT NULL CHECK (
        tipo IN ('CONTRATO_ENVIADO', 'CONTRATO_ASSINADO', 'PROPOSTA_APROVADA', 'PROPOSTA_RECUSADA')
    ),
    dados TEXT DEFAULT '{}',
    criado_em DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS erp_portal_evento_pedido ON erp_portal_evento (pedido_id);

-- BEGIN GENERATED from erp_sync/schema.py (manage.py erp_schema generate): do not edit
DROP TRIGGER IF EXISTS erp_cliente_bump;
CREATE TRIGGER erp_cliente_bump AFTER UPDATE OF id, empresa_id, nome, cpf_cnpj, email, ativo
ON erp_cliente FOR EACH ROW WHEN NEW.versao IS OLD.versao
BEGIN
    UPDATE erp_cliente SET versao = versao + 1 WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS erp_cliente_stamp;
CREATE TRIGGER erp_cliente_stamp AFTER UPDATE OF versao
ON erp_cliente FOR EACH ROW
BEGIN
    UPDATE erp_cliente SET atualizado_em = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS erp_pedido_bump;
CREATE TRIGGER erp_pedido_bump AFTER UPDATE OF id, empresa_id, cliente_id, numero, status, emitido_em, validade, vendedor, forma_pagamento, condicao_pagamento, observacoes, valor_produtos, valor_servicos, desconto, frete, valor_total, aprovado_em, aprovado_por
ON erp_pedido FOR EACH ROW WHEN NEW.versao IS OLD.versao
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS erp_pedido_stamp;
CREATE TRIGGER erp_pedido_stamp AFTER UPDATE OF versao
ON erp_pedido FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET atualizado_em = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS erp_pedido_item_ins;
CREATE TRIGGER erp_pedido_item_ins AFTER INSERT
ON erp_pedido_item FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_item_upd;
CREATE TRIGGER erp_pedido_item_upd AFTER UPDATE OF id, pedido_id, sequencia, tipo, codigo, descricao, unidade, quantidade, valor_unitario, desconto, valor_total, informacoes
ON erp_pedido_item FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id IN (NEW.pedido_id, OLD.pedido_id);
END;

DROP TRIGGER IF EXISTS erp_pedido_item_del;
CREATE TRIGGER erp_pedido_item_del AFTER DELETE
ON erp_pedido_item FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_parcela_ins;
CREATE TRIGGER erp_pedido_parcela_ins AFTER INSERT
ON erp_pedido_parcela FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_parcela_upd;
CREATE TRIGGER erp_pedido_parcela_upd AFTER UPDATE OF id, pedido_id, numero, vencimento, valor
ON erp_pedido_parcela FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id IN (NEW.pedido_id, OLD.pedido_id);
END;

DROP TRIGGER IF EXISTS erp_pedido_parcela_del;
CREATE TRIGGER erp_pedido_parcela_del AFTER DELETE
ON erp_pedido_parcela FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_contrato_ins;
CREATE TRIGGER erp_pedido_contrato_ins AFTER INSERT
ON erp_pedido_contrato FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_contrato_upd;
CREATE TRIGGER erp_pedido_contrato_upd AFTER UPDATE OF id, pedido_id, titulo, conteudo_html, arquivo, assinatura
ON erp_pedido_contrato FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id IN (NEW.pedido_id, OLD.pedido_id);
END;

DROP TRIGGER IF EXISTS erp_pedido_contrato_del;
CREATE TRIGGER erp_pedido_contrato_del AFTER DELETE
ON erp_pedido_contrato FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_contrato_stamp;
CREATE TRIGGER erp_pedido_contrato_stamp AFTER UPDATE OF id, pedido_id, titulo, conteudo_html, arquivo, assinatura
ON erp_pedido_contrato FOR EACH ROW
BEGIN
    UPDATE erp_pedido_contrato SET atualizado_em = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS erp_contrato_signatario_ins;
CREATE TRIGGER erp_contrato_signatario_ins AFTER INSERT
ON erp_contrato_signatario FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = (SELECT pedido_id FROM erp_pedido_contrato WHERE id = NEW.contrato_id);
END;

DROP TRIGGER IF EXISTS erp_contrato_signatario_upd;
CREATE TRIGGER erp_contrato_signatario_upd AFTER UPDATE OF id, contrato_id, email, papel
ON erp_contrato_signatario FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id IN ((SELECT pedido_id FROM erp_pedido_contrato WHERE id = NEW.contrato_id), (SELECT pedido_id FROM erp_pedido_contrato WHERE id = OLD.contrato_id));
END;

DROP TRIGGER IF EXISTS erp_contrato_signatario_del;
CREATE TRIGGER erp_contrato_signatario_del AFTER DELETE
ON erp_contrato_signatario FOR EACH ROW
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = (SELECT pedido_id FROM erp_pedido_contrato WHERE id = OLD.contrato_id);
END;

DROP TRIGGER IF EXISTS erp_pedido_anexo_ins;
CREATE TRIGGER erp_pedido_anexo_ins AFTER INSERT
ON erp_pedido_anexo FOR EACH ROW WHEN NEW.origem = 'ERP'
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

DROP TRIGGER IF EXISTS erp_pedido_anexo_upd;
CREATE TRIGGER erp_pedido_anexo_upd AFTER UPDATE OF id, pedido_id, tipo, nome, mime, conteudo, sha256, origem, criado_em
ON erp_pedido_anexo FOR EACH ROW WHEN NEW.origem = 'ERP' OR OLD.origem = 'ERP'
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id IN (NEW.pedido_id, OLD.pedido_id);
END;

DROP TRIGGER IF EXISTS erp_pedido_anexo_del;
CREATE TRIGGER erp_pedido_anexo_del AFTER DELETE
ON erp_pedido_anexo FOR EACH ROW WHEN OLD.origem = 'ERP'
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;
-- END GENERATED
